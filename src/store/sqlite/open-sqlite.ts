import Database from 'better-sqlite3-multiple-ciphers';
import { Kysely, SqliteDialect } from 'kysely';
import type { Database as Schema } from '../schema.js';
import { cachingStatements } from './statement-cache.js';

export interface SqliteOptions {
  /** Database file, or ':memory:'. */
  path: string;
  /** Whole-file encryption key (SQLCipher-compatible, 32 bytes); absent means an unencrypted file. */
  key?: Buffer | undefined;
  /** PRAGMA synchronous; NORMAL survives a killed process in WAL mode, FULL also a power cut. */
  synchronous?: 'NORMAL' | 'FULL';
}

/** Opens SQLite in WAL mode with foreign keys on, a busy timeout for other processes and prepared statements reused. */
export function openSqlite(options: SqliteOptions): { db: Kysely<Schema>; raw: Database.Database } {
  const raw = new Database(options.path);
  if (options.key) {
    raw.pragma(`cipher='sqlcipher'`);
    raw.pragma(`legacy=4`);
    raw.pragma(`key="x'${options.key.toString('hex')}'"`);
  }
  raw.pragma('journal_mode = WAL');
  raw.pragma(`synchronous = ${options.synchronous ?? 'NORMAL'}`);
  raw.pragma('foreign_keys = ON');
  raw.pragma('busy_timeout = 5000');
  const db = new Kysely<Schema>({ dialect: new SqliteDialect({ database: cachingStatements(raw) }) });
  return { db, raw };
}
