import type { ConversationRecord, ConversationRepo } from '../store/repos/conversation-repo.js';
import type { ContentCipher, SealContext } from './content-cipher.js';
import { conversationScope } from './content-scopes.js';

const metadataContext = (r: Pick<ConversationRecord, 'id' | 'tenantId' | 'labelId'>): SealContext => ({
  tenant: r.tenantId,
  objectId: r.id,
  kind: 'conversation.metadata',
  label: r.labelId,
  scope: conversationScope(r.id),
});

/**
 * Conversations with their `metadata` (caller-chosen key/values, which may hold anything) sealed under the
 * conversation's own key. Every method is listed on purpose: a new read method must be added here.
 */
export function sealedConversationRepo(inner: ConversationRepo, cipher: ContentCipher): ConversationRepo {
  const open = async (r: ConversationRecord): Promise<ConversationRecord> => ({
    ...r,
    metadata: await cipher.open(metadataContext(r), r.metadata),
  });
  return {
    async insert(r) {
      await inner.insert({ ...r, metadata: await cipher.seal(metadataContext(r), r.metadata) });
    },
    async get(scope, id) {
      const row = await inner.get(scope, id);
      return row && open(row);
    },
    async getForAppend(scope, id) {
      const row = await inner.getForAppend(scope, id);
      return row && open(row);
    },
    async list(scope, page) {
      const result = await inner.list(scope, page);
      return { ...result, data: await Promise.all(result.data.map(open)) };
    },
    async updateMetadata(scope, id, metadata, now) {
      // The label is bound into the AAD; a conversation's label never changes, so reading it first is safe.
      const row = await inner.get(scope, id);
      if (!row) return false;
      return inner.updateMetadata(scope, id, await cipher.seal(metadataContext(row), metadata), now);
    },
    advance: (scope, id, change) => inner.advance(scope, id, change),
    async relabel(scope, id, change) {
      // The label is in the metadata's AAD: open under the old label, seal again under the new one.
      const row = await inner.get(scope, id);
      if (!row) return false;
      const plain = await cipher.open(metadataContext(row), row.metadata);
      const metadata = await cipher.seal(metadataContext({ ...row, labelId: change.labelId }), plain);
      return inner.relabel(scope, id, { ...change, metadata });
    },
    delete: (scope, id) => inner.delete(scope, id),
    idsByPrincipal: (tenantId, principal) => inner.idsByPrincipal(tenantId, principal),
  };
}
