import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3-multiple-ciphers';
import pg from 'pg';
import { sqliteKeyFor } from '../../src/crypto/index.js';
import type { TestDatabase } from './stores.js';

/** Direct SQL on a test server's database (the SQLite file opened with its key), playing an attacker or auditor. */
export interface RawSql {
  rows(sql: string, params?: unknown[]): Promise<Record<string, unknown>[]>;
  run(sql: string, params?: unknown[]): Promise<void>;
  close(): Promise<void>;
}

export async function rawSql(db: TestDatabase): Promise<RawSql> {
  if (db.databaseUrl) {
    const client = new pg.Client({ connectionString: db.databaseUrl });
    await client.connect();
    // Placeholders are written `?`; PostgreSQL numbers them.
    const numbered = (sql: string) => {
      let n = 0;
      return sql.replace(/\?/g, () => `$${++n}`);
    };
    return {
      rows: async (sql, params = []) => (await client.query(numbered(sql), params)).rows,
      run: async (sql, params = []) => void (await client.query(numbered(sql), params)),
      close: () => client.end(),
    };
  }
  const raw = new Database(join(db.dataDir, 'enclave.db'));
  raw.pragma(`cipher='sqlcipher'`);
  raw.pragma(`legacy=4`);
  raw.pragma(`key="x'${(await sqliteKeyFor(db.dataDir)).toString('hex')}'"`);
  raw.pragma('busy_timeout = 5000');
  return {
    rows: async (sql, params = []) => raw.prepare(sql).all(...params) as Record<string, unknown>[],
    run: async (sql, params = []) => void raw.prepare(sql).run(...params),
    close: async () => void raw.close(),
  };
}

/** Every file under `dir` (recursively) whose bytes contain `marker`. */
export function filesContaining(dir: string, marker: string): string[] {
  const needle = Buffer.from(marker, 'utf8');
  const found: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) found.push(...filesContaining(path, marker));
    else if (readFileSync(path).includes(needle)) found.push(path);
  }
  return found;
}

/** Every file under `dir`, recursively (to show the scan saw the database, WAL and key files). */
export function allFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? allFiles(path) : [path];
  });
}
