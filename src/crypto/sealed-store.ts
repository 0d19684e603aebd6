import { EnclaveError } from '../errors/index.js';
import type { Store } from '../store/store.js';
import { createContentCipher } from './content-cipher.js';
import { conversationScope, responseScope } from './content-scopes.js';
import type { Encryption } from './encryption.js';
import { memoryBlindIndex, type MemoryBlindIndex } from './memory-blind-index.js';
import { forgetMemory } from './memory-forget.js';
import { sealedMemoryRepo } from './sealed-memory-repo.js';
import { sealedConversationRepo } from './sealed-conversation-repo.js';
import { sealedItemRepo } from './sealed-item-repo.js';
import { sealedResponseRepo } from './sealed-response-repo.js';
import { sealedSafetyRepo } from './sealed-safety-repo.js';
import { runKeyingOf, sealedRunRepo, type RunKeying } from './sealed-run-repo.js';
import { sealedApprovalRepo, sealedRunStepRepo } from './sealed-run-step-repo.js';
import { sealedDowngradeRepo } from './sealed-downgrade-repo.js';

/**
 * The store the rest of Enclave uses: conversations, items and responses seal their content columns on
 * write and open them on read, in this one place, so the runtime works with plaintext and the database
 * (on either engine) only ever holds sealed strings. Every other repo is the plain one.
 *
 * Deleting a conversation or a response crypto-shreds its scope first (deletion receipt in the audit log,
 * then the data keys go), then deletes the rows: if the receipt cannot be written nothing is deleted; if
 * the row delete fails after the shred, the rows are noise and a retry removes them.
 *
 * Inside a transaction the data keys are looked up and created through that transaction (on SQLite the
 * single connection belongs to it until it ends), and a key created there is shared with other requests
 * only after the commit: a rolled-back key must never seal anything else.
 */
export function sealContent(store: Store, encryption: Pick<Encryption, 'keys' | 'shred'>): Store {
  return bindSealed(store, encryption, undefined, memoryBlindIndex(encryption.keys));
}

function bindSealed(
  store: Store,
  encryption: Pick<Encryption, 'keys' | 'shred'>,
  view: ReturnType<Encryption['keys']['withinTransaction']> | undefined,
  blind: MemoryBlindIndex,
): Store {
  const cipher = createContentCipher(view?.keys ?? encryption.keys);
  const memory = sealedMemoryRepo(store.memory, cipher, view ? blind.within(view.keys) : blind);
  const conversations = sealedConversationRepo(store.conversations, cipher);
  const responses = sealedResponseRepo(store.responses, cipher);
  const runKeying = runKeyingOf(store.runs, runKeyingCache(encryption));
  // Shredding appends to the audit log, which commits on its own: never from inside a transaction.
  // Memory learned from the conversation (or the response's turns, whose memory session is the response
  // id) is forgotten between the shred (receipt first) and the row delete, with its own receipt.
  const shredThen = async (tenant: string, scope: string, id: string, remove: () => Promise<boolean>) => {
    if (view)
      throw new EnclaveError('internal', 'Conversations and responses are deleted outside transactions.');
    await encryption.shred(tenant, scope);
    await forgetMemory(memory, encryption.keys.auditLog, {
      by: 'conversation',
      tenantId: tenant,
      conversationId: id,
    });
    return remove();
  };
  const sealed: Store = {
    ...store,
    memory,
    items: sealedItemRepo(store.items, cipher),
    safety: sealedSafetyRepo(store.safety, cipher),
    // Durable runs: request bodies, step results, stream events and approvals, under the response's scope.
    runs: sealedRunRepo(store.runs, cipher, runKeying, view ? undefined : (fn) => sealed.transaction(fn)),
    runSteps: sealedRunStepRepo(store.runSteps, cipher, runKeying),
    approvals: sealedApprovalRepo(store.approvals, cipher, runKeying),
    labelDowngrades: sealedDowngradeRepo(store.labelDowngrades, cipher),
    conversations: {
      ...conversations,
      async delete(scope, id) {
        // Only what the caller may see is shredded: the visibility check comes first.
        if (!(await store.conversations.get(scope, id))) return false;
        return shredThen(scope.tenantId, conversationScope(id), id, () =>
          store.conversations.delete(scope, id),
        );
      },
    },
    responses: {
      ...responses,
      async delete(scope, id) {
        if (!(await store.responses.get(scope, id))) return false;
        return shredThen(scope.tenantId, responseScope(id), id, () => deleteResponseAndRun(store, scope, id));
      },
    },
    transaction: async (fn, options) => {
      if (view) return fn(sealed);
      let publish: (() => void) | undefined;
      const result = await store.transaction((tx) => {
        const txView = encryption.keys.withinTransaction(tx.dataKeys);
        publish = txView.publish;
        return fn(bindSealed(tx, encryption, txView, blind));
      }, options);
      // Only a committed transaction's keys are shared; a failed one's view is dropped with the error.
      publish?.();
      return result;
    },
  };
  return sealed;
}

/** Tenant and scope of each run, shared by the root store and its transaction views (keyed by `encryption`). */
const runKeyings = new WeakMap<object, Map<string, RunKeying>>();
function runKeyingCache(encryption: object): Map<string, RunKeying> {
  let cache = runKeyings.get(encryption);
  if (!cache) runKeyings.set(encryption, (cache = new Map()));
  return cache;
}

/**
 * A response's row and items, and the durable run that served it (its steps, events and approvals, all
 * sealed under the same `response:<id>` scope, so already unreadable after the shred).
 */
async function deleteResponseAndRun(
  store: Store,
  scope: Parameters<Store['responses']['delete']>[0],
  id: string,
) {
  const deleted = await store.responses.delete(scope, id);
  await store.approvals.deleteByRun(id);
  await store.runs.delete(id);
  return deleted;
}
