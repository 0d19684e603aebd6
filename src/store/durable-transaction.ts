import { sql, type Kysely, type Transaction } from 'kysely';
import type { Dialect } from './migrations/migration.js';
import type { Database } from './schema.js';

/** Options of `Store.transaction`. */
export interface TransactionOptions {
  /**
   * Make this commit survive a power cut, whatever the store's default. SQLite in WAL mode with
   * synchronous=NORMAL (the default) survives a killed process but may lose the last commits on power loss;
   * a durable transaction commits with synchronous=FULL (the WAL is fsynced before the commit returns).
   * PostgreSQL commits durably unless the server runs with synchronous_commit=off; a durable transaction
   * turns it back on for itself.
   */
  durable?: boolean;
}

const openedLevel = new WeakMap<object, number>();

/**
 * Runs `fn` in a transaction committed durably. SQLite refuses to change its safety level inside a
 * transaction, so the connection is held, raised to FULL before BEGIN and put back after COMMIT; other queries
 * wait for the held connection, so none of them commits under the changed level by accident.
 */
export async function durableTransaction<T>(
  db: Kysely<Database>,
  dialect: Dialect,
  fn: (trx: Transaction<Database>) => Promise<T>,
): Promise<T> {
  if (dialect === 'postgres') {
    return db.transaction().execute(async (trx) => {
      await sql`set local synchronous_commit = on`.execute(trx);
      return fn(trx);
    });
  }
  return db.connection().execute(async (conn) => {
    // 0 OFF, 1 NORMAL, 2 FULL, 3 EXTRA: only ever raise it. The connection's own level is read once: only
    // this function changes it after the store is opened, and it always puts it back.
    let level = openedLevel.get(db);
    if (level === undefined) {
      const { rows } = await sql<{ synchronous: number }>`pragma synchronous`.execute(conn);
      level = rows[0]?.synchronous ?? 1;
      openedLevel.set(db, level);
    }
    if (level >= 2) return conn.transaction().execute(fn);
    await sql`pragma synchronous = FULL`.execute(conn);
    try {
      return await conn.transaction().execute(fn);
    } finally {
      await sql.raw(`pragma synchronous = ${level}`).execute(conn);
    }
  });
}
