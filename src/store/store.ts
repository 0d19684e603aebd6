import type { Kysely } from 'kysely';
import type { Dialect } from './migrations/migration.js';
import { apiKeyRepo, type ApiKeyRepo } from './repos/api-key-repo.js';
import { dataKeyRepo, type DataKeyRepo } from './repos/data-key-repo.js';
import { labelRepo, type LabelRepo } from './repos/label-repo.js';
import { tenantRepo, type TenantRepo } from './repos/tenant-repo.js';
import type { Database } from './schema.js';

/**
 * The storage contract: one repository per domain, the same on SQLite and PostgreSQL.
 * `transaction` runs `fn` against a Store bound to one database transaction (nested calls join it).
 */
export interface Store {
  readonly dialect: Dialect;
  readonly tenants: TenantRepo;
  readonly labels: LabelRepo;
  readonly apiKeys: ApiKeyRepo;
  readonly dataKeys: DataKeyRepo;
  transaction<T>(fn: (tx: Store) => Promise<T>): Promise<T>;
  /** Closes connections; in-flight queries finish first. */
  close(): Promise<void>;
}

export function createStore(db: Kysely<Database>, dialect: Dialect, close: () => Promise<void>): Store {
  return bind(db, dialect, close, false);
}

function bind(
  db: Kysely<Database>,
  dialect: Dialect,
  close: () => Promise<void>,
  inTransaction: boolean,
): Store {
  const store: Store = {
    dialect,
    tenants: tenantRepo(db),
    labels: labelRepo(db),
    apiKeys: apiKeyRepo(db),
    dataKeys: dataKeyRepo(db),
    transaction: (fn) =>
      inTransaction ? fn(store) : db.transaction().execute((trx) => fn(bind(trx, dialect, close, true))),
    close,
  };
  return store;
}
