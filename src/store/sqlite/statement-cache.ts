import type { SqliteDatabase, SqliteStatement } from 'kysely';

/** Distinct SQL texts kept prepared: the repos' fixed queries plus some `in (?, …)` lengths and batch sizes. */
export const STATEMENT_CACHE_SIZE = 256;

interface CachedStatement extends SqliteStatement {
  /** better-sqlite3: true while an `iterate()` over this statement is open. */
  readonly busy: boolean;
}

interface PreparingDatabase {
  prepare(sql: string): CachedStatement;
  close(): void;
}

/**
 * Kysely's SQLite driver prepares every query anew (a parse and plan in SQLite each time, a visible share of a
 * stored turn). This hands it the statement prepared last time for the same SQL text instead: a statement has no
 * state between runs (better-sqlite3 binds parameters per call and resets after `all`/`run`), and SQLite
 * re-prepares it by itself if the schema changed. A statement still being iterated is never handed out twice;
 * such a query gets a fresh one. Least recently used texts are dropped beyond `size`.
 */
export function cachingStatements(db: PreparingDatabase, size = STATEMENT_CACHE_SIZE): SqliteDatabase {
  const cache = new Map<string, CachedStatement>();
  return {
    prepare(text: string): SqliteStatement {
      // Kysely opens transactions with a deferred `begin`: a second process (another `enclave serve`, a CLI
      // command) that read first and then writes fails with SQLITE_BUSY_SNAPSHOT instead of waiting.
      // `begin immediate` takes the write lock up front, so writers queue behind busy_timeout.
      const sql = text === 'begin' ? 'begin immediate' : text;
      const cached = cache.get(sql);
      if (cached && !cached.busy) {
        // Map order is insertion order: re-inserting marks it most recently used.
        cache.delete(sql);
        cache.set(sql, cached);
        return cached;
      }
      const statement = db.prepare(sql);
      if (!cached) {
        cache.set(sql, statement);
        if (cache.size > size) cache.delete(cache.keys().next().value as string);
      }
      return statement;
    },
    close() {
      cache.clear();
      db.close();
    },
  };
}
