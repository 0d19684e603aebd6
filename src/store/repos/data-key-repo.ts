import type { Kysely, Selectable } from 'kysely';
import { guarded } from '../db-errors.js';
import type { DataKeyTable } from '../data-key-schema.js';
import type { Dialect } from '../migrations/migration.js';
import type { Database } from '../schema.js';
import { insertText, runText, SqlTexts } from './fixed-sql.js';

export interface DataKeyRecord {
  id: string;
  tenantId: string;
  scope: string;
  generation: number;
  kekVersion: number;
  provider: string;
  /** base64url of the provider's wrapped form. */
  wrapped: string;
  createdAt: number;
  rewrappedAt: number | null;
}

/** Wrapped data keys (envelope encryption). The store never sees a plaintext key. */
export interface DataKeyRepo {
  /**
   * Inserts `record` unless the scope already has a key of that generation; returns the key that is
   * stored either way, so concurrent first writers of a scope all use the same key.
   */
  insertOrGet(record: DataKeyRecord): Promise<DataKeyRecord>;
  byId(tenantId: string, id: string): Promise<DataKeyRecord | undefined>;
  forGeneration(tenantId: string, scope: string, generation: number): Promise<DataKeyRecord | undefined>;
  /** Every key of a scope, oldest generation first. */
  listScope(tenantId: string, scope: string): Promise<DataKeyRecord[]>;
  /** A page of keys wrapped under a KEK version below `belowVersion`, in id order after `afterId`. */
  listWrappedBelow(belowVersion: number, limit: number, afterId?: string): Promise<DataKeyRecord[]>;
  countWrappedBelow(belowVersion: number): Promise<number>;
  /** Replaces the wrapping only if it is still `fromVersion` (a concurrent rewrap wins once). */
  rewrap(
    id: string,
    fromVersion: number,
    wrapped: string,
    kekVersion: number,
    now?: number,
  ): Promise<boolean>;
  /** Deletes these keys of the tenant; returns how many rows went. */
  destroy(tenantId: string, ids: readonly string[]): Promise<number>;
}

const toRecord = (row: Selectable<DataKeyTable>): DataKeyRecord => ({
  id: row.id,
  tenantId: row.tenant_id,
  scope: row.scope,
  generation: Number(row.generation),
  kekVersion: Number(row.kek_version),
  provider: row.provider,
  wrapped: row.wrapped,
  createdAt: Number(row.created_at),
  rewrappedAt: row.rewrapped_at === null ? null : Number(row.rewrapped_at),
});

const columns = [
  'id',
  'tenant_id',
  'scope',
  'generation',
  'kek_version',
  'provider',
  'wrapped',
  'created_at',
  'rewrapped_at',
] as const;

// Every stored response gets its own key (its shred scope): fixed texts (see fixed-sql.ts).
const texts = new SqlTexts(4);
const insertSql = (dialect: Dialect) =>
  texts.get(dialect, 'insert', () =>
    insertText('data_keys', columns, 1, ' on conflict ("tenant_id", "scope", "generation") do nothing'),
  );
const forGenerationSql = (dialect: Dialect) =>
  texts.get(
    dialect,
    'generation',
    () => 'select * from "data_keys" where "tenant_id" = ? and "scope" = ? and "generation" = ?',
  );

export function dataKeyRepo(db: Kysely<Database>, dialect: Dialect): DataKeyRepo {
  const forGeneration = async (tenantId: string, scope: string, generation: number) => {
    const { rows } = await runText<Selectable<DataKeyTable>>(db, forGenerationSql(dialect), [
      tenantId,
      scope,
      generation,
    ]);
    const row = rows[0];
    return row && toRecord(row);
  };
  return {
    async insertOrGet(r) {
      const values: unknown[] = [
        r.id,
        r.tenantId,
        r.scope,
        r.generation,
        r.kekVersion,
        r.provider,
        r.wrapped,
        r.createdAt,
        r.rewrappedAt,
      ];
      const inserted = await guarded('data key', () => runText(db, insertSql(dialect), values));
      // Written as given: no read back (one query less per new key). Only a lost race reads the winner's row.
      if ((inserted.numAffectedRows ?? 0n) > 0n) return { ...r };
      const stored = await forGeneration(r.tenantId, r.scope, r.generation);
      if (!stored) throw new Error(`data key ${r.id} vanished right after insert`);
      return stored;
    },
    async byId(tenantId, id) {
      const row = await db
        .selectFrom('data_keys')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .where('id', '=', id)
        .executeTakeFirst();
      return row && toRecord(row);
    },
    forGeneration,
    async listScope(tenantId, scope) {
      const rows = await db
        .selectFrom('data_keys')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .where('scope', '=', scope)
        .orderBy('generation')
        .execute();
      return rows.map(toRecord);
    },
    async listWrappedBelow(belowVersion, limit, afterId) {
      let query = db.selectFrom('data_keys').selectAll().where('kek_version', '<', belowVersion);
      if (afterId !== undefined) query = query.where('id', '>', afterId);
      return (await query.orderBy('id').limit(limit).execute()).map(toRecord);
    },
    async countWrappedBelow(belowVersion) {
      const row = await db
        .selectFrom('data_keys')
        .select((eb) => eb.fn.countAll<number | string>().as('n'))
        .where('kek_version', '<', belowVersion)
        .executeTakeFirstOrThrow();
      return Number(row.n);
    },
    async rewrap(id, fromVersion, wrapped, kekVersion, now = Date.now()) {
      const result = await db
        .updateTable('data_keys')
        .set({ wrapped, kek_version: kekVersion, rewrapped_at: now })
        .where('id', '=', id)
        .where('kek_version', '=', fromVersion)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },
    async destroy(tenantId, ids) {
      if (ids.length === 0) return 0;
      const result = await db
        .deleteFrom('data_keys')
        .where('tenant_id', '=', tenantId)
        .where('id', 'in', [...ids])
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}
