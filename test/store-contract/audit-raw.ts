import { join } from 'node:path';
import Database from 'better-sqlite3-multiple-ciphers';
import pg from 'pg';
import type { TestDatabase } from '../support/stores.js';

/** Direct SQL on a test database, bypassing the store: how the tamper tests play an attacker with DB access. */
export interface RawDatabase {
  exec(sql: string): Promise<void>;
  close(): Promise<void>;
}

export async function rawDatabase(db: TestDatabase): Promise<RawDatabase> {
  if (db.databaseUrl) {
    const client = new pg.Client({ connectionString: db.databaseUrl });
    await client.connect();
    return { exec: async (sql) => void (await client.query(sql)), close: () => client.end() };
  }
  const raw = new Database(join(db.dataDir, 'enclave.db'));
  raw.pragma('busy_timeout = 5000');
  return { exec: async (sql) => void raw.exec(sql), close: async () => void raw.close() };
}
