import type { Kysely } from 'kysely';
import type { Database } from '../schema.js';

export interface TenantRepo {
  /** Creates the tenant if it does not exist yet. */
  ensure(id: string, now?: number): Promise<void>;
  exists(id: string): Promise<boolean>;
  list(): Promise<string[]>;
}

export function tenantRepo(db: Kysely<Database>): TenantRepo {
  return {
    async ensure(id, now = Date.now()) {
      await db
        .insertInto('tenants')
        .values({ id, created_at: now })
        .onConflict((oc) => oc.column('id').doNothing())
        .execute();
    },
    async exists(id) {
      return (
        (await db.selectFrom('tenants').select('id').where('id', '=', id).executeTakeFirst()) !== undefined
      );
    },
    async list() {
      return (await db.selectFrom('tenants').select('id').orderBy('id').execute()).map((r) => r.id);
    },
  };
}
