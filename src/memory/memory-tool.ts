import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { FunctionToolSpec } from '../providers/model-provider.js';
import type { MemoryReader, OwnerKey } from '../store/repos/memory-repo.js';
import { memoryContext } from './memory-context.js';
import type { MemoryService } from './memory-service.js';
import type { WriteOutcome } from './memory-writer.js';
import type { MemoryHit } from './types.js';

const toolArgs = z.discriminatedUnion('action', [
  z.object({
    action: z.literal('search'),
    query: z.string().min(1).max(2000),
    k: z.number().int().min(1).max(20).optional(),
  }),
  z.object({ action: z.literal('remember'), text: z.string().min(1).max(2000) }),
]);
export type MemoryToolArgs = z.output<typeof toolArgs>;

export const memoryToolSpec: FunctionToolSpec = {
  name: 'memory',
  description: 'Search your long-term memory of this user, or remember a new fact about them.',
  parameters: {
    type: 'object',
    additionalProperties: false,
    required: ['action'],
    properties: {
      action: { type: 'string', enum: ['search', 'remember'] },
      query: { type: 'string' },
      k: { type: 'integer', minimum: 1, maximum: 20 },
      text: { type: 'string' },
    },
  },
};

/** The model's arguments, or the error text the model is shown instead (a bad call is the model's to fix). */
export function parseMemoryToolArgs(argumentsJson: string): MemoryToolArgs | { error: string } {
  let json: unknown;
  try {
    json = JSON.parse(argumentsJson);
  } catch {
    return { error: 'memory tool arguments are not JSON.' };
  }
  const args = toolArgs.safeParse(json);
  return args.success
    ? args.data
    : { error: 'memory tool: expected {"action":"search","query":…} or {"action":"remember","text":…}.' };
}

/** What one call did: the text the model sees, the records it read (their labels join the turn's). */
export type MemoryToolResult =
  | { action: 'search'; output: string; hits: MemoryHit[] }
  | { action: 'remember'; output: string; outcome: WriteOutcome };

/**
 * The memory tool's effect. `search` recalls in `reader` (the caller's scope below the turn's ceiling):
 * extracted records first, turns only when nothing was extracted. `remember` goes through the same screen
 * (quarantine) and consolidation as extraction, labelled `labelId`; `key` (the run step's idempotency key)
 * fixes the new record's id, so a re-executed step merges into what it wrote rather than adding a twin.
 */
export async function runMemoryTool(
  memory: MemoryService,
  call: { reader: MemoryReader; owner: OwnerKey; labelId: string; conversationId: string | null },
  args: MemoryToolArgs,
  key: string,
  now: number,
): Promise<MemoryToolResult> {
  if (args.action === 'search') {
    const k = args.k ?? 5;
    let hits = await memory.recall(call.reader, args.query, { k, excludeKinds: ['episode'] });
    if (hits.length === 0) hits = await memory.recall(call.reader, args.query, { k });
    return { action: 'search', output: memoryContext(hits).text || 'No memories found.', hits };
  }
  const outcome = await memory.write({
    id: `mem_${createHash('sha256').update(key).digest('hex').slice(0, 32)}`,
    owner: call.owner,
    kind: 'fact',
    text: args.text,
    conversationId: call.conversationId,
    validFrom: now,
    sources: [],
    labelId: call.labelId,
  });
  const output =
    outcome.status === 'quarantined'
      ? 'Not remembered: the text was flagged by the safety screen and waits for a reviewer.'
      : `Remembered (${outcome.status}).`;
  return { action: 'remember', output, outcome };
}
