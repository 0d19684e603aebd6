import type { Kysely, Selectable } from 'kysely';
import type { ItemTable } from '../conversation-schema.js';
import { guarded } from '../db-errors.js';
import { scopeLabelIds, type ReadScope } from '../read-scope.js';
import type { Database } from '../schema.js';
import type { Page, PageRequest } from './conversation-repo.js';

export interface ItemRecord {
  id: string;
  tenantId: string;
  labelId: string;
  conversationId: string | null;
  responseId: string | null;
  position: number;
  type: string;
  role: string | null;
  status: string;
  callId: string | null;
  /** JSON body of the item (content parts, arguments, output, summary) — the column encryption wraps. */
  content: string;
  createdAt: number;
}

/**
 * Items of conversations and responses (messages, function calls and outputs, compactions, …).
 * `content` is sealed by src/crypto/sealed-item-repo.ts: a new read method must be added there too.
 */
export interface ItemRepo {
  insertMany(records: readonly ItemRecord[]): Promise<void>;
  get(scope: ReadScope, id: string): Promise<ItemRecord | undefined>;
  /** The visible items among `ids`, in no particular order (callers order by their own id lists). */
  byIds(scope: ReadScope, ids: readonly string[]): Promise<ItemRecord[]>;
  /** A page of a conversation's visible items by position; `after` is an item id of that conversation. */
  listConversation(scope: ReadScope, conversationId: string, page: PageRequest): Promise<Page<ItemRecord>>;
  /**
   * What a model sees of a conversation: its visible items from the latest compaction item on (the
   * compaction summarises everything before it), in position order. The full history stays stored.
   */
  conversationContext(scope: ReadScope, conversationId: string): Promise<ItemRecord[]>;
  delete(scope: ReadScope, conversationId: string, id: string): Promise<boolean>;
  /** Deletes a response's own items that belong to no conversation. */
  deleteDetached(scope: ReadScope, responseId: string): Promise<void>;
  /**
   * Trusted downgrade: gives a visible item a new label. `content` replaces the stored content when given
   * (the encryption layer passes it sealed again under the new label, which is in its AAD).
   */
  relabel(scope: ReadScope, id: string, labelId: string, content?: string): Promise<boolean>;
}

const toRecord = (row: Selectable<ItemTable>): ItemRecord => ({
  id: row.id,
  tenantId: row.tenant_id,
  labelId: row.label_id,
  conversationId: row.conversation_id,
  responseId: row.response_id,
  position: Number(row.position),
  type: row.type,
  role: row.role,
  status: row.status,
  callId: row.call_id,
  content: row.content,
  createdAt: Number(row.created_at),
});

/** Large id lists are read in chunks to stay under both engines' bound-parameter limits. */
const CHUNK = 500;

export function itemRepo(db: Kysely<Database>): ItemRepo {
  const visible = (scope: ReadScope) =>
    db
      .selectFrom('items')
      .selectAll()
      .where('tenant_id', '=', scope.tenantId)
      .where('label_id', 'in', scopeLabelIds(scope));
  return {
    async insertMany(records) {
      if (records.length === 0) return;
      const rows = records.map((r) => ({
        id: r.id,
        tenant_id: r.tenantId,
        label_id: r.labelId,
        conversation_id: r.conversationId,
        response_id: r.responseId,
        position: r.position,
        type: r.type,
        role: r.role,
        status: r.status,
        call_id: r.callId,
        content: r.content,
        created_at: r.createdAt,
      }));
      for (let i = 0; i < rows.length; i += 50) {
        await guarded('item', () =>
          db
            .insertInto('items')
            .values(rows.slice(i, i + 50))
            .execute(),
        );
      }
    },
    async get(scope, id) {
      const row = await visible(scope).where('id', '=', id).executeTakeFirst();
      return row && toRecord(row);
    },
    async byIds(scope, ids) {
      const out: ItemRecord[] = [];
      for (let i = 0; i < ids.length; i += CHUNK) {
        const rows = await visible(scope)
          .where('id', 'in', ids.slice(i, i + CHUNK))
          .execute();
        out.push(...rows.map(toRecord));
      }
      return out;
    },
    async listConversation(scope, conversationId, page) {
      let query = visible(scope).where('conversation_id', '=', conversationId);
      if (page.after !== undefined) {
        const cursor = await visible(scope)
          .where('conversation_id', '=', conversationId)
          .where('id', '=', page.after)
          .executeTakeFirst();
        if (!cursor) return { data: [], hasMore: false };
        query = query.where('position', page.order === 'asc' ? '>' : '<', cursor.position);
      }
      const rows = await query
        .orderBy('position', page.order)
        .limit(page.limit + 1)
        .execute();
      return { data: rows.slice(0, page.limit).map(toRecord), hasMore: rows.length > page.limit };
    },
    async conversationContext(scope, conversationId) {
      const latest = await visible(scope)
        .clearSelect()
        .select((eb) => eb.fn.max('position').as('position'))
        .where('conversation_id', '=', conversationId)
        .where('type', '=', 'compaction')
        .executeTakeFirst();
      const from = latest?.position ?? null;
      let query = visible(scope).where('conversation_id', '=', conversationId);
      if (from !== null) query = query.where('position', '>=', Number(from));
      return (await query.orderBy('position', 'asc').execute()).map(toRecord);
    },
    async delete(scope, conversationId, id) {
      const result = await db
        .deleteFrom('items')
        .where('tenant_id', '=', scope.tenantId)
        .where('label_id', 'in', scopeLabelIds(scope))
        .where('conversation_id', '=', conversationId)
        .where('id', '=', id)
        .executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },
    async relabel(scope, id, labelId, content) {
      const result = await db
        .updateTable('items')
        .set(content === undefined ? { label_id: labelId } : { label_id: labelId, content })
        .where('tenant_id', '=', scope.tenantId)
        .where('label_id', 'in', scopeLabelIds(scope))
        .where('id', '=', id)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },
    async deleteDetached(scope, responseId) {
      await db
        .deleteFrom('items')
        .where('tenant_id', '=', scope.tenantId)
        .where('label_id', 'in', scopeLabelIds(scope))
        .where('response_id', '=', responseId)
        .where('conversation_id', 'is', null)
        .execute();
    },
  };
}
