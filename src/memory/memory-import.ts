import { z } from 'zod';
import { EnclaveError } from '../errors/index.js';
import type { TurnInput } from './memory-service.js';
import type { MemoryHit, MemoryKind } from './types.js';

/**
 * What `memory search` ranks by default: episodes (turns with their neighbours). Adding the extracted
 * records cost 0.9–1.4 points of turn-level recall@10 on LoCoMo-dev (docs/memory.md), since a short fact
 * outranks the fuller turn it came from; `--kinds` opts them in. Summaries and entities are never counted
 * as turn hits: they cite many turns at once and would inflate turn-level recall.
 */
export const SEARCH_DEFAULT_KINDS: readonly MemoryKind[] = ['episode'];
export const SEARCH_EXCLUDED_KINDS: readonly MemoryKind[] = ['summary', 'entity'];

const turnLine = z.object({
  session: z.union([z.string(), z.number()]).transform(String),
  id: z.union([z.string(), z.number()]).transform(String).pipe(z.string().min(1).max(200)),
  speaker: z.string().max(200),
  text: z.string().max(100_000),
  time: z.union([z.string(), z.number()]).optional(),
});

const queryLine = z.object({
  id: z.union([z.string(), z.number()]).transform(String),
  query: z.string().max(10_000),
});

function parseLine<T>(schema: z.ZodType<T>, line: string, n: number, shape: string): T {
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch {
    throw new EnclaveError('invalid_json', `Line ${n} is not JSON; expected ${shape}.`);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new EnclaveError(
      'invalid_request',
      `Line ${n}: ${issue?.path.join('.') ?? ''} ${issue?.message ?? ''}; expected ${shape}.`,
    );
  }
  return parsed.data;
}

/** One `memory import` line `{"session","id","speaker","text","time"?}`; time is ISO 8601 or epoch ms. */
export function parseTurnLine(line: string, n: number): TurnInput {
  const t = parseLine(turnLine, line, n, '{"session","id","speaker","text","time"?}');
  let occurredAt: number | undefined;
  if (t.time !== undefined && t.time !== '') {
    occurredAt = typeof t.time === 'number' ? t.time : Date.parse(t.time);
    if (!Number.isFinite(occurredAt))
      throw new EnclaveError('invalid_request', `Line ${n}: time is not a date.`);
  }
  return { id: t.id, session: t.session, speaker: t.speaker, text: t.text, occurredAt };
}

/** One `memory search` line `{"id","query"}`. */
export function parseQueryLine(line: string, n: number): { id: string; query: string } {
  return parseLine(queryLine, line, n, '{"id","query"}');
}

/** The contract's search answer line. */
export function searchAnswer(id: string, hits: readonly MemoryHit[]): string {
  return JSON.stringify({
    id,
    hits: hits.map((h) => ({
      source_ids: h.record.sourceIds,
      text: h.record.text,
      score: Number(h.score.toFixed(6)),
      kind: h.record.kind,
      memory_id: h.record.id,
    })),
  });
}
