import type { Kysely, Selectable } from 'kysely';
import type { ItemTable } from '../conversation-schema.js';
import { guarded } from '../db-errors.js';
import type { Dialect } from '../migrations/migration.js';
import { scopeLabelIds, type ReadScope } from '../read-scope.js';
import type { Database } from '../schema.js';
import type { Page, PageRequest } from './conversation-repo.js';
import { insertText, runText, slots, SqlTexts } from './fixed-sql.js';

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
/** Rows per INSERT statement (12 parameters each). */
const INSERT_ROWS = 50;

const columns = [
  'id',
  'tenant_id',
  'label_id',
  'conversation_id',
  'response_id',
  'position',
  'type',
  'role',
  'status',
  'call_id',
  'content',
  'created_at',
] as const;

// A turn inserts its items and reads its history by ids: fixed texts per shape (see fixed-sql.ts).
const texts = new SqlTexts(256);
const insertSql = (dialect: Dialect, rows: number) =>
  texts.get(dialect, `insert:${rows}`, () => insertText('items', columns, rows));
const visibleSql = (labels: number) =>
  `select * from "items" where "tenant_id" = ? and "label_id" in (${slots(labels)})`;
const byIdSql = (dialect: Dialect, labels: number) =>
  texts.get(dialect, `id:${labels}`, () => `${visibleSql(labels)} and "id" = ?`);
const byIdsSql = (dialect: Dialect, labels: number, ids: number) =>
  texts.get(dialect, `ids:${labels}:${ids}`, () => `${visibleSql(labels)} and "id" in (${slots(ids)})`);
const compactionSql = (dialect: Dialect, labels: number) =>
  texts.get(
    dialect,
    `compaction:${labels}`,
    () =>
      `select max("position") as "position" from "items" where "tenant_id" = ? and "label_id" in (${slots(labels)}) ` +
      'and "conversation_id" = ? and "type" = ?',
  );
const contextSql = (dialect: Dialect, labels: number, from: boolean) =>
  texts.get(
    dialect,
    `context:${labels}:${from}`,
    () =>
      `${visibleSql(labels)} and "conversation_id" = ?${from ? ' and "position" >= ?' : ''} order by "position" asc`,
  );

export function itemRepo(db: Kysely<Database>, dialect: Dialect): ItemRepo {
  const visible = (scope: ReadScope) =>
    db
      .selectFrom('items')
      .selectAll()
      .where('tenant_id', '=', scope.tenantId)
      .where('label_id', 'in', scopeLabelIds(scope));
  return {
    async insertMany(records) {
      for (let i = 0; i < records.length; i += INSERT_ROWS) {
        const chunk = records.slice(i, i + INSERT_ROWS);
        const values: unknown[] = [];
        for (const r of chunk) {
          values.push(
            r.id,
            r.tenantId,
            r.labelId,
            r.conversationId,
            r.responseId,
            r.position,
            r.type,
            r.role,
            r.status,
            r.callId,
            r.content,
            r.createdAt,
          );
        }
        await guarded('item', () => runText(db, insertSql(dialect, chunk.length), values));
      }
    },
    async get(scope, id) {
      const labels = scopeLabelIds(scope);
      const { rows } = await runText<Selectable<ItemTable>>(db, byIdSql(dialect, labels.length), [
        scope.tenantId,
        ...labels,
        id,
      ]);
      const row = rows[0];
      return row && toRecord(row);
    },
    async byIds(scope, ids) {
      const labels = scopeLabelIds(scope);
      const out: ItemRecord[] = [];
      for (let i = 0; i < ids.length; i += CHUNK) {
        const chunk = ids.slice(i, i + CHUNK);
        const { rows } = await runText<Selectable<ItemTable>>(
          db,
          byIdsSql(dialect, labels.length, chunk.length),
          [scope.tenantId, ...labels, ...chunk],
        );
        for (const row of rows) out.push(toRecord(row));
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
      const labels = scopeLabelIds(scope);
      const head = [scope.tenantId, ...labels, conversationId];
      const latest = await runText<{ position: number | string | null }>(
        db,
        compactionSql(dialect, labels.length),
        [...head, 'compaction'],
      );
      const from = latest.rows[0]?.position ?? null;
      const { rows } = await runText<Selectable<ItemTable>>(
        db,
        contextSql(dialect, labels.length, from !== null),
        from === null ? head : [...head, Number(from)],
      );
      return rows.map(toRecord);
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
