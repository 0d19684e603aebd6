import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe } from 'vitest';
import { openStore } from '../../src/store/open-store.js';
import type { Store } from '../../src/store/store.js';

export type Engine = 'sqlite' | 'postgres';

/** The engines this run covers: SQLite always, PostgreSQL when ENCLAVE_TEST_PG_URL is set (CI sets it). */
export const engines: Engine[] = process.env.ENCLAVE_TEST_PG_URL ? ['sqlite', 'postgres'] : ['sqlite'];

export interface TestDatabase {
  /** DATABASE_URL for postgres, undefined for SQLite. */
  databaseUrl: string | undefined;
  dataDir: string;
  drop(): Promise<void>;
}

/** A fresh, empty database on `engine`: a new SQLite file in a temp dir, or a new PostgreSQL database. */
export async function createTestDatabase(engine: Engine): Promise<TestDatabase> {
  const dataDir = mkdtempSync(join(tmpdir(), 'enclave-test-'));
  if (engine === 'sqlite') {
    return {
      databaseUrl: undefined,
      dataDir,
      drop: async () => rmSync(dataDir, { recursive: true, force: true }),
    };
  }
  const adminUrl = process.env.ENCLAVE_TEST_PG_URL;
  if (!adminUrl) throw new Error('ENCLAVE_TEST_PG_URL is not set');
  const name = `enclave_t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    databaseUrl: url.toString(),
    dataDir,
    async drop() {
      const c = new pg.Client({ connectionString: adminUrl });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * Registers `body` once per engine with a fresh migrated store shared by the block's tests
 * (tests isolate themselves with unique tenant ids). This is how the storage contract suite runs twice.
 */
export function describeStore(title: string, body: (store: () => Store, engine: Engine) => void): void {
  for (const engine of engines) {
    describe(`${title} [${engine}]`, () => {
      let database: TestDatabase | undefined;
      let store: Store | undefined;
      beforeAll(async () => {
        database = await createTestDatabase(engine);
        store = await openStore({ databaseUrl: database.databaseUrl, dataDir: database.dataDir });
      });
      afterAll(async () => {
        await store?.close();
        await database?.drop();
      });
      body(() => {
        if (!store) throw new Error('store not open');
        return store;
      }, engine);
    });
  }
}

export const uniqueId = (prefix: string): string => `${prefix}_${randomBytes(5).toString('hex')}`;
