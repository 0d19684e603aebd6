import type { Kysely, Selectable } from 'kysely';
import type { ConversationTable } from '../conversation-schema.js';
import { guarded } from '../db-errors.js';
import type { Dialect } from '../migrations/migration.js';
import { scopeLabelIds, type ReadScope } from '../read-scope.js';
import type { Database } from '../schema.js';
import { runText, slots, SqlTexts } from './fixed-sql.js';

export interface ConversationRecord {
  id: string;
  tenantId: string;
  labelId: string;
  highWaterLabelId: string;
  metadata: string;
  principal: string;
  createdAt: number;
  updatedAt: number;
}

export interface Page<T> {
  data: T[];
  hasMore: boolean;
}

export interface PageRequest {
  /** Id of the last row of the previous page (exclusive cursor). */
  after?: string | undefined;
  limit: number;
  order: 'asc' | 'desc';
}

/**
 * Conversations: labelled containers of items. Every read and write is scoped to tenant + visible labels.
 * `metadata` is sealed by src/crypto/sealed-conversation-repo.ts: a new read method must be added there too.
 */
export interface ConversationRepo {
  insert(record: ConversationRecord): Promise<void>;
  get(scope: ReadScope, id: string): Promise<ConversationRecord | undefined>;
  /** Like `get`, but locks the row until the transaction ends (PostgreSQL; SQLite serialises writers anyway). */
  getForAppend(scope: ReadScope, id: string): Promise<ConversationRecord | undefined>;
  list(scope: ReadScope, page: PageRequest): Promise<Page<ConversationRecord>>;
  updateMetadata(scope: ReadScope, id: string, metadata: string, now: number): Promise<boolean>;
  /**
   * Reserves `count` item positions and records the new high-water mark; returns the first position.
   * Call inside the transaction that inserts the items, after `getForAppend`.
   */
  advance(
    scope: ReadScope,
    id: string,
    change: { count: number; highWaterLabelId: string; now: number },
  ): Promise<number>;
  /** Deletes the conversation and all its items; false when it is not visible. */
  delete(scope: ReadScope, id: string): Promise<boolean>;
  /** Ids of every conversation `principal` created in the tenant, whatever its label (user erasure). */
  idsByPrincipal(tenantId: string, principal: string): Promise<string[]>;
  /**
   * Trusted downgrade: a visible conversation's container label and high-water mark. `metadata` replaces the
   * stored metadata when given (sealed again by the encryption layer, whose AAD holds the label).
   */
  relabel(
    scope: ReadScope,
    id: string,
    change: { labelId: string; highWaterLabelId: string; metadata?: string; now: number },
  ): Promise<boolean>;
}

const toRecord = (row: Selectable<ConversationTable>): ConversationRecord => ({
  id: row.id,
  tenantId: row.tenant_id,
  labelId: row.label_id,
  highWaterLabelId: row.high_water_label_id,
  metadata: row.metadata,
  principal: row.principal,
  createdAt: Number(row.created_at),
  updatedAt: Number(row.updated_at),
});

// A conversation turn reads its conversation (three times) and advances its positions: fixed texts (fixed-sql.ts).
const texts = new SqlTexts();
const visibleSql = (labels: number) =>
  `select * from "conversations" where "tenant_id" = ? and "label_id" in (${slots(labels)}) and "id" = ?`;
const getSql = (dialect: Dialect, labels: number, forUpdate: boolean) =>
  texts.get(
    dialect,
    `get:${labels}:${forUpdate}`,
    () => visibleSql(labels) + (forUpdate ? ' for update' : ''),
  );
const advanceSql = (dialect: Dialect, labels: number) =>
  texts.get(
    dialect,
    `advance:${labels}`,
    () =>
      'update "conversations" set "next_position" = "next_position" + ?, "high_water_label_id" = ?, "updated_at" = ? ' +
      `where "tenant_id" = ? and "label_id" in (${slots(labels)}) and "id" = ? returning "next_position"`,
  );

export function conversationRepo(db: Kysely<Database>, dialect: Dialect): ConversationRepo {
  const byId = async (scope: ReadScope, id: string, forUpdate: boolean) => {
    const labels = scopeLabelIds(scope);
    const { rows } = await runText<Selectable<ConversationTable>>(
      db,
      getSql(dialect, labels.length, forUpdate),
      [scope.tenantId, ...labels, id],
    );
    const row = rows[0];
    return row && toRecord(row);
  };
  const visible = (scope: ReadScope) =>
    db
      .selectFrom('conversations')
      .selectAll()
      .where('tenant_id', '=', scope.tenantId)
      .where('label_id', 'in', scopeLabelIds(scope));
  return {
    async insert(r) {
      await guarded('conversation', () =>
        db
          .insertInto('conversations')
          .values({
            id: r.id,
            tenant_id: r.tenantId,
            label_id: r.labelId,
            high_water_label_id: r.highWaterLabelId,
            metadata: r.metadata,
            next_position: 0,
            principal: r.principal,
            created_at: r.createdAt,
            updated_at: r.updatedAt,
          })
          .execute(),
      );
    },
    get: (scope, id) => byId(scope, id, false),
    // PostgreSQL locks the row until the append's transaction ends; SQLite's write lock is already held.
    getForAppend: (scope, id) => byId(scope, id, dialect === 'postgres'),
    async list(scope, page) {
      let query = visible(scope);
      if (page.after !== undefined) {
        const cursor = await visible(scope).where('id', '=', page.after).executeTakeFirst();
        if (!cursor) return { data: [], hasMore: false };
        const op = page.order === 'asc' ? '>' : '<';
        query = query.where((eb) =>
          eb.or([
            eb('created_at', op, cursor.created_at),
            eb.and([eb('created_at', '=', cursor.created_at), eb('id', op, cursor.id)]),
          ]),
        );
      }
      const rows = await query
        .orderBy('created_at', page.order)
        .orderBy('id', page.order)
        .limit(page.limit + 1)
        .execute();
      return { data: rows.slice(0, page.limit).map(toRecord), hasMore: rows.length > page.limit };
    },
    async relabel(scope, id, change) {
      const result = await db
        .updateTable('conversations')
        .set({
          label_id: change.labelId,
          high_water_label_id: change.highWaterLabelId,
          updated_at: change.now,
          ...(change.metadata === undefined ? {} : { metadata: change.metadata }),
        })
        .where('tenant_id', '=', scope.tenantId)
        .where('label_id', 'in', scopeLabelIds(scope))
        .where('id', '=', id)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },
    async updateMetadata(scope, id, metadata, now) {
      const result = await db
        .updateTable('conversations')
        .set({ metadata, updated_at: now })
        .where('tenant_id', '=', scope.tenantId)
        .where('label_id', 'in', scopeLabelIds(scope))
        .where('id', '=', id)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },
    async advance(scope, id, change) {
      const labels = scopeLabelIds(scope);
      const { rows } = await runText<{ next_position: number | string }>(
        db,
        advanceSql(dialect, labels.length),
        [change.count, change.highWaterLabelId, change.now, scope.tenantId, ...labels, id],
      );
      const row = rows[0];
      if (!row) throw new Error(`conversation ${id} vanished during an append`);
      return Number(row.next_position) - change.count;
    },
    async delete(scope, id) {
      const run = async (tx: Kysely<Database>): Promise<boolean> => {
        const found = await tx
          .selectFrom('conversations')
          .select('id')
          .where('tenant_id', '=', scope.tenantId)
          .where('label_id', 'in', scopeLabelIds(scope))
          .where('id', '=', id)
          .executeTakeFirst();
        if (!found) return false;
        await tx
          .deleteFrom('items')
          .where('tenant_id', '=', scope.tenantId)
          .where('conversation_id', '=', id)
          .execute();
        await tx
          .deleteFrom('conversations')
          .where('tenant_id', '=', scope.tenantId)
          .where('id', '=', id)
          .execute();
        return true;
      };
      return db.isTransaction ? run(db) : db.transaction().execute(run);
    },
    async idsByPrincipal(tenantId, principal) {
      const rows = await db
        .selectFrom('conversations')
        .select('id')
        .where('tenant_id', '=', tenantId)
        .where('principal', '=', principal)
        .execute();
      return rows.map((r) => r.id);
    },
  };
}
