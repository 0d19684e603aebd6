import type { ItemRecord, ItemRepo } from '../store/repos/item-repo.js';
import type { ContentCipher, SealContext } from './content-cipher.js';
import { itemScope } from './content-scopes.js';

/** The AAD of an item's content: its tenant, id and label as stored, under its conversation's or response's key. */
const itemContext = (r: ItemRecord): SealContext => ({
  tenant: r.tenantId,
  objectId: r.id,
  kind: 'item',
  label: r.labelId,
  scope: itemScope(r),
});

/**
 * Items with their `content` (message parts, function call arguments and outputs, summaries) sealed on the
 * way in and opened on the way out. Every method of ItemRepo is listed on purpose (no spread of `inner`): a
 * read method added later must be added here, or it would hand out ciphertext.
 */
export function sealedItemRepo(inner: ItemRepo, cipher: ContentCipher): ItemRepo {
  const open = async (r: ItemRecord): Promise<ItemRecord> => ({
    ...r,
    content: await cipher.open(itemContext(r), r.content),
  });
  const openAll = (rows: readonly ItemRecord[]) => Promise.all(rows.map(open));
  return {
    async insertMany(records) {
      const sealed = await Promise.all(
        records.map(async (r) => ({ ...r, content: await cipher.seal(itemContext(r), r.content) })),
      );
      await inner.insertMany(sealed);
    },
    async get(scope, id) {
      const row = await inner.get(scope, id);
      return row && open(row);
    },
    async byIds(scope, ids) {
      return openAll(await inner.byIds(scope, ids));
    },
    async listConversation(scope, conversationId, page) {
      const result = await inner.listConversation(scope, conversationId, page);
      return { ...result, data: await openAll(result.data) };
    },
    async conversationContext(scope, conversationId) {
      return openAll(await inner.conversationContext(scope, conversationId));
    },
    delete: (scope, conversationId, id) => inner.delete(scope, conversationId, id),
    deleteDetached: (scope, responseId) => inner.deleteDetached(scope, responseId),
    async relabel(scope, id, labelId) {
      // The label is in the AAD: open under the old label, seal again under the new one.
      const row = await inner.get(scope, id);
      if (!row) return false;
      const plain = await cipher.open(itemContext(row), row.content);
      return inner.relabel(scope, id, labelId, await cipher.seal(itemContext({ ...row, labelId }), plain));
    },
  };
}
