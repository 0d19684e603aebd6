import { EnclaveError } from '../errors/index.js';
import { lub, UNCLASSIFIED, type Label } from '../labels/index.js';
import type { Principal } from '../identity/principal.js';
import type { ConversationRecord } from '../store/repos/conversation-repo.js';
import type { ResponseRecord } from '../store/repos/response-repo.js';
import type { Store } from '../store/store.js';
import { loadItem, type LoadedItem, type NewItem } from './items.js';
import type { LabelAccess } from './label-access.js';
import type { PendingAudit } from './pending-audit.js';

/** What a turn continues from: the prior items a model must see, and their label. */
export interface History {
  items: LoadedItem[];
  /** lub of everything loaded (a conversation's high-water mark, a previous response's label). */
  label: Label;
  conversation: ConversationRecord | null;
  previous: ResponseRecord | null;
}

/**
 * Loads the history of a turn under the reader's scope: a previous response's whole context and output, or
 * a conversation's items from its latest compaction on. An id the reader cannot see is a 404, like one that
 * does not exist.
 */
export async function loadHistory(
  store: Store,
  labels: LabelAccess,
  principal: Principal,
  from: { previousResponseId: string | null; conversationId: string | null },
  /** Collects the read decision's append: settle it before the history leaves the process (turn.ts). */
  pending?: PendingAudit,
): Promise<History> {
  if (from.previousResponseId !== null && from.conversationId !== null) {
    throw new EnclaveError(
      'invalid_request',
      "Send either 'previous_response_id' or 'conversation', not both.",
      {
        param: 'previous_response_id',
      },
    );
  }
  if (from.previousResponseId !== null) {
    const previousId = from.previousResponseId;
    // A chain to a response the reader cannot see is a 404 like a missing one (recorded by labels.read).
    const { record: previous, scope } = await labels.read(
      principal,
      { kind: 'response', id: previousId, action: 'chain' },
      (s) => store.responses.get(s, previousId),
      () =>
        new EnclaveError('not_found', `No response found with id '${previousId}'.`, {
          param: 'previous_response_id',
        }),
      pending,
    );
    const ids = [...previous.contextItemIds, ...previous.outputItemIds];
    const byId = new Map((await store.items.byIds(scope, ids)).map((r) => [r.id, loadItem(r)]));
    const items = ids.flatMap((id) => byId.get(id) ?? []);
    return { items, label: await labels.label(previous.labelId), conversation: null, previous };
  }
  if (from.conversationId !== null) {
    const conversationId = from.conversationId;
    const { record: conversation, scope } = await labels.read(
      principal,
      { kind: 'conversation', id: conversationId, action: 'chain' },
      (s) => store.conversations.get(s, conversationId),
      () =>
        new EnclaveError('not_found', `No conversation found with id '${conversationId}'.`, {
          param: 'conversation',
        }),
      pending,
    );
    const items = (await store.items.conversationContext(scope, conversation.id)).map(loadItem);
    return { items, label: await labels.label(conversation.highWaterLabelId), conversation, previous: null };
  }
  return { items: [], label: UNCLASSIFIED, conversation: null, previous: null };
}

/** A function_call_output must answer a call the model made earlier in this context. */
export function requireKnownCalls(history: readonly NewItem[], inputs: readonly NewItem[]): void {
  const calls = new Set(history.filter((i) => i.type === 'function_call').map((i) => i.callId));
  for (const [index, item] of inputs.entries()) {
    if (item.type === 'function_call') calls.add(item.callId);
    if (item.type === 'function_call_output' && !calls.has(item.callId)) {
      throw new EnclaveError(
        'invalid_request',
        `input[${index}] is a function_call_output for call_id '${item.callId ?? ''}', but no function_call with that id is in this response's context.`,
        { param: `input[${index}].call_id` },
      );
    }
  }
}

export const lubAll = (labels: readonly Label[], start: Label = UNCLASSIFIED): Label =>
  labels.reduce((a, b) => lub(a, b), start);
