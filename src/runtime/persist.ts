import { EnclaveError } from '../errors/index.js';
import { dominates, lub, type Label } from '../labels/index.js';
import type { Principal } from '../identity/principal.js';
import type { ReadScope } from '../store/read-scope.js';
import type { ItemRecord } from '../store/repos/item-repo.js';
import type { ResponseRecord } from '../store/repos/response-repo.js';
import type { Store } from '../store/store.js';
import type { NewItem } from './items.js';
import { noWriteDown, type LabelAccess } from './label-access.js';
import { recordForMemory, type MemoryWrite } from './memory-hooks.js';
import type { PendingAudit } from './pending-audit.js';

/** Everything one turn (or one Conversations API write) stores, written in one transaction. */
export interface TurnWrite {
  /** Who writes: the write decision is recorded in their name (with onBehalfOf). */
  principal: Principal;
  tenantId: string;
  scope: ReadScope;
  /** The response row (absent for items added through the Conversations API). */
  response?: ResponseRecord;
  /** Items in order: compaction (if any), inputs, outputs. */
  items: readonly NewItem[];
  /** lub of the labels of `items` (and the context they came from). */
  label: Label;
  /**
   * The conversation the items join. Only a completed turn joins it: an incomplete or failed one is stored
   * beside it (response and items retrievable by id) so the next turn never sees half a turn.
   */
  conversationId: string | null;
  /**
   * The conversation's single-writer lease this turn holds (src/runs/conversation-writer.ts): checked inside
   * the transaction, so a writer whose lease was taken over never appends.
   */
  fence?: { conversationId: string; token: number } | undefined;
  /** [memory] set when memory learns from this turn: its extraction job commits with it (memory-hooks.ts). */
  memory?: MemoryWrite | undefined;
  /** [audit] the turn's held entries (pending-audit.ts): they commit with the write decision and the rows. */
  audit?: PendingAudit | undefined;
}

/**
 * THE write path of the stateful API: every conversation append, item and response row is written here,
 * labelled, in one transaction — so a turn is stored whole or not at all, and no write skips the no-write-down
 * check. The write decision and the turn's other held entries (pending-audit.ts) commit in that same
 * transaction: the turn is stored exactly when the log records it, and it is acknowledged only once durable.
 */
export async function persistWrite(
  store: Store,
  labels: LabelAccess,
  write: TurnWrite,
  now = Date.now(),
): Promise<void> {
  for (const item of write.items)
    if (!item.labelId)
      throw new EnclaveError('internal', `Item ${item.id} has no label; refusing to store it.`);
  if (write.response && !write.response.labelId)
    throw new EnclaveError('internal', 'A response without a label cannot be stored.');
  const audit = write.audit ?? labels.decisions.pending(store);
  try {
    await recordWrite(store, labels, write, audit);
    await audit.commitWith((tx) => writeTurn(tx, labels, write, now));
  } catch (error) {
    // A refused or failed write is recorded all the same (its entries stayed held), before the error goes out.
    await audit.settleThenThrow(error);
  }
  await audit.settle();
}

async function writeTurn(tx: Store, labels: LabelAccess, write: TurnWrite, now: number): Promise<void> {
  let first = 0;
  if (write.fence) await tx.conversationLeases.assertFence(write.fence.conversationId, write.fence.token);
  if (write.conversationId !== null) {
    const conversation = await tx.conversations.getForAppend(write.scope, write.conversationId);
    if (!conversation)
      throw new EnclaveError('not_found', `No conversation found with id '${write.conversationId}'.`, {
        param: 'conversation',
      });
    const container = await labels.label(conversation.labelId, tx);
    const highWater = lub(await labels.label(conversation.highWaterLabelId, tx), write.label);
    requireNoWriteDown(container, highWater);
    const highWaterLabelId = await labels.ensure(highWater, tx);
    first = await tx.conversations.advance(write.scope, write.conversationId, {
      count: write.items.length,
      highWaterLabelId,
      now,
    });
  }
  const records: ItemRecord[] = write.items.map((item, index) => ({
    id: item.id,
    tenantId: write.tenantId,
    labelId: item.labelId,
    conversationId: write.conversationId,
    responseId: write.response?.id ?? null,
    position: first + index,
    type: item.type,
    role: item.role,
    status: item.status,
    callId: item.callId,
    content: JSON.stringify(item.body),
    createdAt: now,
  }));
  await tx.items.insertMany(records);
  if (write.response) await tx.responses.insert(write.response);
  if (write.memory) await recordForMemory(tx, write.memory, write.items, now);
}

/**
 * The write decision, held for the write's transaction: into a conversation, no write down; otherwise the
 * response row (or, without one, each item) is the object written. The transaction re-checks no write down
 * on its own read.
 */
async function recordWrite(
  store: Store,
  labels: LabelAccess,
  write: TurnWrite,
  audit: PendingAudit,
): Promise<void> {
  if (write.conversationId !== null) {
    const conversation = await store.conversations.get(write.scope, write.conversationId);
    if (conversation) {
      await labels.requireWrite(
        write.principal,
        { kind: 'conversation', ...conversation },
        write.label,
        audit,
      );
      return;
    }
    // Missing or invisible: the transaction answers 404; record the refusal like any other.
    await labels.read(
      write.principal,
      { kind: 'conversation', id: write.conversationId, action: 'write' },
      (scope) => store.conversations.get(scope, write.conversationId ?? ''),
      () =>
        new EnclaveError('not_found', `No conversation found with id '${write.conversationId}'.`, {
          param: 'conversation',
        }),
      audit,
    );
    return;
  }
  const objects = write.response
    ? [{ kind: 'response', id: write.response.id, labelId: write.response.labelId }]
    : write.items.map((item) => ({ kind: 'item', id: item.id, labelId: item.labelId }));
  for (const object of objects)
    await labels.requireWrite(write.principal, object, await labels.label(object.labelId), audit);
}

/** No write down: what goes into a container must be dominated by the container's label. */
export function requireNoWriteDown(container: Label, content: Label): void {
  if (!dominates(container, content)) throw noWriteDown();
}
