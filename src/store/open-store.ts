import { join } from 'node:path';
import type { Kysely } from 'kysely';
import { EnclaveError } from '../errors/index.js';
import { migrateToLatest } from './migrate.js';
import { openPostgres } from './postgres/open-postgres.js';
import type { Database } from './schema.js';
import { openSqlite } from './sqlite/open-sqlite.js';
import { createStore, type Store } from './store.js';

export interface StoreOptions {
  /** `postgres://…` selects PostgreSQL; absent selects SQLite in `dataDir`. */
  databaseUrl?: string | undefined;
  dataDir: string;
  /** SQLite file name inside dataDir (tests use ':memory:'). */
  sqliteFile?: string;
  sqliteKey?: Buffer | undefined;
}

/** Opens the configured engine, checks it answers, and migrates the schema. */
export async function openStore(options: StoreOptions): Promise<Store> {
  if (options.databaseUrl) {
    const { db, pool } = openPostgres({ url: options.databaseUrl });
    await checkReachable(db, options.databaseUrl, () => pool.end());
    await migrateToLatest(db as Kysely<unknown>, 'postgres');
    return createStore(db, 'postgres', () => db.destroy());
  }
  const file = options.sqliteFile ?? 'enclave.db';
  const path = file === ':memory:' ? file : join(options.dataDir, file);
  let opened: ReturnType<typeof openSqlite>;
  try {
    opened = openSqlite({ path, key: options.sqliteKey });
    opened.raw.prepare('SELECT count(*) FROM sqlite_master').get();
  } catch (cause) {
    throw new EnclaveError(
      'unavailable',
      `Cannot open the SQLite database at ${path} (wrong key or not a database).`,
      {
        cause,
      },
    );
  }
  await migrateToLatest(opened.db as Kysely<unknown>, 'sqlite');
  const { db } = opened;
  return createStore(db, 'sqlite', () => db.destroy());
}

async function checkReachable(db: Kysely<Database>, url: string, end: () => Promise<void>): Promise<void> {
  try {
    await db.selectNoFrom((eb) => eb.val(1).as('ok')).execute();
  } catch (cause) {
    await end().catch(() => undefined);
    const reason = (cause as { code?: string; message?: string }).code ?? (cause as Error).message;
    throw new EnclaveError('unavailable', `Cannot reach PostgreSQL at ${redactUrl(url)} (${reason}).`, {
      cause,
    });
  }
}

/** Drops the password from a connection URL so it can be shown. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'postgres://(unparseable url)';
  }
}
