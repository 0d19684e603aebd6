import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Kysely } from 'kysely';
import { expect, it } from 'vitest';
import { openSqlite } from '../../src/store/sqlite/open-sqlite.js';
import { createStore } from '../../src/store/store.js';
import { migrateToLatest } from '../../src/store/migrate.js';
import { describeStore } from '../support/stores.js';

describeStore('store contract: durable transactions (audit batches)', (store) => {
  it('commit what they wrote and roll back on failure, like any transaction', async () => {
    const before = (await store().audit.head()).treeSize;
    const head = await store().audit.head();
    await expect(
      store().transaction(
        async (tx) => {
          await tx.audit.lockHead();
          await tx.audit.insertEntries([
            { index: before, leafHash: 'ab'.repeat(32), entry: '{}', createdAt: 1 },
          ]);
          throw new Error('boom');
        },
        { durable: true },
      ),
    ).rejects.toThrow('boom');
    expect(await store().audit.entries(before, 10)).toEqual([]);
    await store().transaction(
      async (tx) => {
        await tx.audit.lockHead();
        await tx.audit.insertEntries([
          { index: before, leafHash: 'ab'.repeat(32), entry: '{}', createdAt: 1 },
        ]);
        await tx.audit.setHead({ ...head, treeSize: before + 1 });
      },
      { durable: true },
    );
    expect((await store().audit.entries(before, 10)).map((r) => r.index)).toEqual([before]);
    // Put the head back so other tests of this store see a consistent log.
    await store().transaction(async (tx) => {
      await tx.audit.lockHead();
      await tx.audit.setHead(head);
    });
  });

  it('name the WAL file to fsync only for a SQLite file in WAL mode whose commits do not fsync', async () => {
    const wal = await store().audit.walFile();
    if (store().dialect === 'postgres') expect(wal).toBeUndefined();
    else {
      expect(wal).toMatch(/enclave\.db-wal$/);
      expect(existsSync(wal as string)).toBe(true);
    }
  });
});

it('on SQLite, no WAL file to fsync in memory or at synchronous=FULL (the commit is the durable way)', async () => {
  const memory = openSqlite({ path: ':memory:' });
  expect(await createStore(memory.db, 'sqlite', async () => undefined).audit.walFile()).toBeUndefined();
  await memory.db.destroy();
  const dir = mkdtempSync(join(tmpdir(), 'enclave-wal-'));
  const full = openSqlite({ path: join(dir, 'full.db'), synchronous: 'FULL' });
  await migrateToLatest(full.db as Kysely<unknown>, 'sqlite');
  expect(await createStore(full.db, 'sqlite', async () => undefined).audit.walFile()).toBeUndefined();
  await full.db.destroy();
  rmSync(dir, { recursive: true, force: true });
});

it('on SQLite, a durable transaction commits with synchronous=FULL and restores the connection level', async () => {
  const { db, raw } = openSqlite({ path: ':memory:' });
  await migrateToLatest(db as Kysely<unknown>, 'sqlite');
  const s = createStore(db, 'sqlite', () => db.destroy());
  const level = () => raw.pragma('synchronous', { simple: true });
  expect(level()).toBe(1);
  let inside: unknown;
  await s.transaction(
    async (tx) => {
      await tx.audit.lockHead();
      inside = level();
    },
    { durable: true },
  );
  expect(inside).toBe(2);
  expect(level()).toBe(1);
  await expect(s.transaction(async () => Promise.reject(new Error('x')), { durable: true })).rejects.toThrow(
    'x',
  );
  expect(level()).toBe(1);
  await s.close();
});
