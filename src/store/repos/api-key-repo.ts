import type { Kysely, Selectable } from 'kysely';
import { guarded } from '../db-errors.js';
import type { Dialect } from '../migrations/migration.js';
import type { ApiKeyTable, Database } from '../schema.js';
import { runText, SqlTexts } from './fixed-sql.js';

export interface ApiKeyRecord {
  id: string;
  tenantId: string;
  name: string;
  role: string;
  clearance: string;
  authorizations: string[];
  /** Canonical label for requests that carry none; absent (or null): the clearance. Admin-set, like it. */
  defaultLabel?: string | null;
  keyHash: string;
  createdAt: number;
  expiresAt: number | null;
  revokedAt: number | null;
}

export interface ApiKeyRepo {
  insert(record: ApiKeyRecord): Promise<void>;
  byHash(keyHash: string): Promise<ApiKeyRecord | undefined>;
  byId(tenantId: string, id: string): Promise<ApiKeyRecord | undefined>;
  list(tenantId?: string): Promise<ApiKeyRecord[]>;
  /** Marks a key revoked; returns false when no such live key exists. */
  revoke(tenantId: string, id: string, now?: number): Promise<boolean>;
}

const toRecord = (row: Selectable<ApiKeyTable>): ApiKeyRecord => ({
  id: row.id,
  tenantId: row.tenant_id,
  name: row.name,
  role: row.role,
  clearance: row.clearance,
  authorizations: JSON.parse(row.authorizations) as string[],
  ...(row.default_label !== null ? { defaultLabel: row.default_label } : {}),
  keyHash: row.key_hash,
  createdAt: row.created_at,
  expiresAt: row.expires_at,
  revokedAt: row.revoked_at,
});

// Every request reads its key (no authorization cache by design): a fixed text (see fixed-sql.ts).
const texts = new SqlTexts(2);
const byHashSql = (dialect: Dialect) =>
  texts.get(dialect, 'hash', () => 'select * from "api_keys" where "key_hash" = ?');

export function apiKeyRepo(db: Kysely<Database>, dialect: Dialect): ApiKeyRepo {
  return {
    async insert(r) {
      await guarded('API key', () =>
        db
          .insertInto('api_keys')
          .values({
            id: r.id,
            tenant_id: r.tenantId,
            name: r.name,
            role: r.role,
            clearance: r.clearance,
            authorizations: JSON.stringify(r.authorizations),
            default_label: r.defaultLabel ?? null,
            key_hash: r.keyHash,
            created_at: r.createdAt,
            expires_at: r.expiresAt,
            revoked_at: r.revokedAt,
          })
          .execute(),
      );
    },
    async byHash(keyHash) {
      const { rows } = await runText<Selectable<ApiKeyTable>>(db, byHashSql(dialect), [keyHash]);
      const row = rows[0];
      return row && toRecord(row);
    },
    async byId(tenantId, id) {
      const row = await db
        .selectFrom('api_keys')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .where('id', '=', id)
        .executeTakeFirst();
      return row && toRecord(row);
    },
    async list(tenantId) {
      let query = db.selectFrom('api_keys').selectAll().orderBy('created_at').orderBy('id');
      if (tenantId !== undefined) query = query.where('tenant_id', '=', tenantId);
      return (await query.execute()).map(toRecord);
    },
    async revoke(tenantId, id, now = Date.now()) {
      const result = await db
        .updateTable('api_keys')
        .set({ revoked_at: now })
        .where('tenant_id', '=', tenantId)
        .where('id', '=', id)
        .where('revoked_at', 'is', null)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },
  };
}
