import { EnclaveError } from '../errors/index.js';
import type { Store } from '../store/store.js';
import { createContentCipher } from './content-cipher.js';
import { conversationScope, responseScope } from './content-scopes.js';
import type { Encryption } from './encryption.js';
import { sealedConversationRepo } from './sealed-conversation-repo.js';
import { sealedItemRepo } from './sealed-item-repo.js';
import { sealedResponseRepo } from './sealed-response-repo.js';
import { sealedSafetyRepo } from './sealed-safety-repo.js';

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
  return bindSealed(store, encryption, undefined);
}

function bindSealed(
  store: Store,
  encryption: Pick<Encryption, 'keys' | 'shred'>,
  view: ReturnType<Encryption['keys']['withinTransaction']> | undefined,
): Store {
  const cipher = createContentCipher(view?.keys ?? encryption.keys);
  const conversations = sealedConversationRepo(store.conversations, cipher);
  const responses = sealedResponseRepo(store.responses, cipher);
  // Shredding appends to the audit log, which commits on its own: never from inside a transaction.
  const shredThen = async (tenant: string, scope: string, remove: () => Promise<boolean>) => {
    if (view)
      throw new EnclaveError('internal', 'Conversations and responses are deleted outside transactions.');
    await encryption.shred(tenant, scope);
    return remove();
  };
  const sealed: Store = {
    ...store,
    items: sealedItemRepo(store.items, cipher),
    safety: sealedSafetyRepo(store.safety, cipher),
    conversations: {
      ...conversations,
      async delete(scope, id) {
        // Only what the caller may see is shredded: the visibility check comes first.
        if (!(await store.conversations.get(scope, id))) return false;
        return shredThen(scope.tenantId, conversationScope(id), () => store.conversations.delete(scope, id));
      },
    },
    responses: {
      ...responses,
      async delete(scope, id) {
        if (!(await store.responses.get(scope, id))) return false;
        return shredThen(scope.tenantId, responseScope(id), () => store.responses.delete(scope, id));
      },
    },
    transaction: async (fn, options) => {
      if (view) return fn(sealed);
      let publish: (() => void) | undefined;
      const result = await store.transaction((tx) => {
        const txView = encryption.keys.withinTransaction(tx.dataKeys);
        publish = txView.publish;
        return fn(bindSealed(tx, encryption, txView));
      }, options);
      // Only a committed transaction's keys are shared; a failed one's view is dropped with the error.
      publish?.();
      return result;
    },
  };
  return sealed;
}
