import type { AuditEntry, AuditLog } from '../audit/index.js';
import type { Principal } from '../identity/principal.js';
import { canonicalLabel, lub, type Label } from '../labels/index.js';
import { memoryContext, recordTurns, type MemoryService, type TurnInput } from '../memory/index.js';
import type { Store } from '../store/store.js';
import type { MemoryConfig } from '../memory/memory-config.js';
import type { MemoryReader, OwnerKey } from '../store/repos/memory-repo.js';
import type { ReadScope } from '../store/read-scope.js';
import type { History } from './context.js';
import { newItemId, type NewItem } from './items.js';
import type { LabelAccess } from './label-access.js';
import type { PendingAudit } from './pending-audit.js';

/** What the runtime needs of long-term memory (built by the composition root, src/app/memory-wiring.ts). */
export interface MemoryRuntime {
  readonly config: MemoryConfig;
  readonly service: MemoryService;
  /** Where recalls (`memory.read`) and writes (`memory.write`) are recorded; a failed append fails the turn. */
  readonly audit: AuditLog;
}

// The memory tool the model can call: memory-tool.ts (run server-side in the durable run's tool loop).
/** Request metadata keys: `enclave_memory: "off"` opts a request out; `enclave_agent` names the agent. */
export const MEMORY_OPT_OUT_KEY = 'enclave_memory';
export const MEMORY_AGENT_KEY = 'enclave_agent';

/**
 * The user whose memories a principal addresses, in the form `Enclave-On-Behalf-Of` names users
 * (`key:<key id>` or `oidc:<subject>`), so a user's own calls and an agent's calls for them meet one memory.
 */
export const memoryUserOf = (p: Principal): string =>
  p.onBehalfOf ?? `${p.via === 'oidc' ? 'oidc' : 'key'}:${p.subject}`;

/**
 * Whose memory a request reads and feeds: the user (the delegating user when an agent acts on behalf of one,
 * else the caller) and, when `metadata.enclave_agent` names one, that agent (records then carry both axes;
 * recall sees the user's own, the agent's and the shared ones). Undefined when memory is off for it.
 */
export function memoryOwner(
  memory: MemoryRuntime | undefined,
  principal: Principal,
  metadata: Readonly<Record<string, string>>,
): OwnerKey | undefined {
  if (!memory?.config.enabled || metadata[MEMORY_OPT_OUT_KEY] === 'off') return undefined;
  return {
    tenantId: principal.tenantId,
    userId: memoryUserOf(principal),
    agentId: (metadata[MEMORY_AGENT_KEY] ?? '').slice(0, 200),
  };
}

export interface Recalled {
  /** A developer message marked as memory: shown to the model, never stored as a conversation item. */
  item: NewItem;
  /** lub of the recalled records' labels: joins the context label before an endpoint is chosen. */
  label: Label;
}

/**
 * [memory recall]: the memories relevant to the latest user input, recalled inside the reader's ReadScope
 * and below the turn's ceiling — the conversation's label, else the request label joined with its history —
 * so recall never raises a turn above what its container may hold (no write down) or the caller asked for.
 * Each recall is audited (`memory.read`, record ids, no content).
 */
export async function recallMemory(
  deps: { memory?: MemoryRuntime | undefined; labels: LabelAccess },
  principal: Principal,
  request: { metadata: Readonly<Record<string, string>>; input: readonly NewItem[] },
  scope: ReadScope,
  ceiling: { history: History; requestLabel: Label },
): Promise<Recalled | undefined> {
  const owner = memoryOwner(deps.memory, principal, request.metadata);
  const query = latestUserText(request.input);
  if (!deps.memory || !owner || !query) return undefined;
  const reader = await memoryReader(deps.labels, principal, owner, scope, ceiling);
  // Extracted records first (compact facts); turns themselves only when nothing was extracted yet.
  let hits = await deps.memory.service.recall(reader, query, {
    k: deps.memory.config.recallK,
    excludeKinds: ['episode'],
  });
  if (hits.length === 0)
    hits = await deps.memory.service.recall(reader, query, { k: deps.memory.config.recallK });
  if (hits.length === 0) return undefined;
  const { text, labelIds } = memoryContext(hits);
  let label: Label | undefined;
  for (const id of labelIds) {
    const l = await deps.labels.label(id);
    label = label ? lub(label, l) : l;
  }
  if (!label) return undefined;
  const labelId = await deps.labels.ensure(label);
  await deps.memory.audit.append({
    type: 'memory.read',
    time: Date.now(),
    tenant: principal.tenantId,
    principal: principal.subject,
    ...(principal.onBehalfOf !== undefined ? { onBehalfOf: principal.onBehalfOf } : {}),
    decision: 'allow',
    rule: 'memory.recall',
    label: canonicalLabel(label),
    detail: { records: hits.map((h) => h.record.id), via: 'context' },
  });
  return {
    item: {
      id: newItemId('message'),
      type: 'message',
      role: 'developer',
      status: 'completed',
      callId: null,
      body: { content: [{ type: 'input_text', text }] },
      labelId,
    },
    label,
  };
}

/**
 * Who reads memory in a turn: the owner's records inside the reader's ReadScope, intersected with the labels
 * below the turn's ceiling — the conversation's label, else the request label joined with its history.
 * Automatic recall and the memory tool read through the same reader.
 */
export async function memoryReader(
  labels: LabelAccess,
  principal: Principal,
  owner: OwnerKey,
  scope: ReadScope,
  ceiling: { history: History; requestLabel: Label },
): Promise<MemoryReader> {
  const top = ceiling.history.conversation
    ? await labels.label(ceiling.history.conversation.labelId)
    : lub(ceiling.requestLabel, ceiling.history.label);
  const under = await labels.scope({ ...principal, clearance: canonicalLabel(top) });
  const allowed = new Set(under.labelIds);
  return {
    scope: { tenantId: scope.tenantId, labelIds: scope.labelIds.filter((id) => allowed.has(id)) },
    userId: owner.userId,
    agentId: owner.agentId,
  };
}

function latestUserText(items: readonly NewItem[]): string {
  for (let i = items.length - 1; i >= 0; i--) {
    const item = items[i];
    if (item?.type === 'message' && item.role === 'user' && 'content' in item.body)
      return item.body.content
        .map((p) => p.text)
        .join('\n')
        .slice(0, 2000);
  }
  return '';
}

/**
 * The stored items memory learns from: user and assistant messages and tool outputs (a tool output is
 * third-party text, so the memory screen quarantines planted instructions). Item ids are the turn ids, so
 * every memory's `source_ids` point at conversation items.
 */
export function memoryTurns(items: readonly NewItem[], session: string, now: number): TurnInput[] {
  const turns: TurnInput[] = [];
  for (const item of items) {
    let speaker: string | undefined;
    let text = '';
    if (
      item.type === 'message' &&
      (item.role === 'user' || item.role === 'assistant') &&
      'content' in item.body
    ) {
      speaker = item.role;
      text = item.body.content.map((p) => p.text).join('\n');
    } else if (item.type === 'function_call_output' && 'output' in item.body) {
      speaker = 'tool';
      text = item.body.output;
    }
    if (speaker && text.trim())
      turns.push({
        id: item.id,
        itemId: item.id,
        session,
        speaker,
        text: text.slice(0, 100_000),
        occurredAt: now,
        labelId: item.labelId,
      });
  }
  return turns;
}

/** What a completed, stored turn hands to memory inside the persist transaction. */
export interface MemoryWrite {
  owner: OwnerKey;
  /** The conversation (or, for a response chain, the response) the turns belong to. */
  session: string;
}

/**
 * Whether memory learns from this turn: only completed turns of a principal with memory on. The write is
 * audited (`memory.write`): held for the turn's write transaction when the turn holds its entries
 * (pending-audit.ts), else appended before it, so a failed append leaves nothing written.
 */
export async function learnFrom(
  memory: MemoryRuntime | undefined,
  turn: {
    id: string;
    principal: Principal;
    label: Label;
    request: { metadata: Readonly<Record<string, string>>; conversationId: string | null };
    audit?: PendingAudit | undefined;
  },
  status: string,
): Promise<MemoryWrite | undefined> {
  const owner = memoryOwner(memory, turn.principal, turn.request.metadata);
  if (!memory || !owner || status !== 'completed') return undefined;
  const session = turn.request.conversationId ?? turn.id;
  const entry: AuditEntry = {
    type: 'memory.write',
    time: Date.now(),
    tenant: owner.tenantId,
    principal: turn.principal.subject,
    ...(turn.principal.onBehalfOf !== undefined ? { onBehalfOf: turn.principal.onBehalfOf } : {}),
    decision: 'allow',
    rule: 'memory.learn',
    objectId: session,
    label: canonicalLabel(turn.label),
    detail: { response: turn.id, ...(owner.agentId ? { agent: owner.agentId } : {}) },
  };
  if (turn.audit) turn.audit.hold(entry);
  else await memory.audit.append(entry);
  return { owner, session };
}

/** Inside the persist transaction: the turn's items become memory sources and an extraction job. */
export async function recordForMemory(
  tx: Store,
  write: MemoryWrite,
  items: readonly NewItem[],
  now: number,
): Promise<void> {
  const turns = memoryTurns(items, write.session, now);
  if (turns.length) await recordTurns(tx.memory, write.owner, write.session, turns, '', now);
}
