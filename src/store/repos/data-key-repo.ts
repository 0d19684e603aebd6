import type { Kysely, Selectable } from 'kysely';
import { guarded } from '../db-errors.js';
import type { DataKeyTable } from '../data-key-schema.js';
import type { Database } from '../schema.js';

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

export function dataKeyRepo(db: Kysely<Database>): DataKeyRepo {
  const forGeneration = async (tenantId: string, scope: string, generation: number) => {
    const row = await db
      .selectFrom('data_keys')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('scope', '=', scope)
      .where('generation', '=', generation)
      .executeTakeFirst();
    return row && toRecord(row);
  };
  return {
    async insertOrGet(r) {
      const [inserted] = await guarded('data key', () =>
        db
          .insertInto('data_keys')
          .values({
            id: r.id,
            tenant_id: r.tenantId,
            scope: r.scope,
            generation: r.generation,
            kek_version: r.kekVersion,
            provider: r.provider,
            wrapped: r.wrapped,
            created_at: r.createdAt,
            rewrapped_at: r.rewrappedAt,
          })
          .onConflict((oc) => oc.columns(['tenant_id', 'scope', 'generation']).doNothing())
          .execute(),
      );
      // Written as given: no read back (one query less per new key). Only a lost race reads the winner's row.
      if ((inserted?.numInsertedOrUpdatedRows ?? 0n) > 0n) return { ...r };
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
