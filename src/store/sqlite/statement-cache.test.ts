import Database from 'better-sqlite3-multiple-ciphers';
import { Kysely, SqliteDialect } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { cachingStatements } from './statement-cache.js';

let raw: Database.Database;
afterEach(() => {
  if (raw.open) raw.close();
});

function open() {
  raw = new Database(':memory:');
  let prepared = 0;
  const counting = {
    prepare: (sql: string) => {
      prepared++;
      return raw.prepare(sql);
    },
    close: () => raw.close(),
  };
  return { counting, prepared: () => prepared };
}

describe('cachingStatements', () => {
  it('prepares each SQL text once and answers like a fresh statement every time', () => {
    const { counting, prepared } = open();
    const db = cachingStatements(counting);
    db.prepare('create table t (id integer primary key, v text)').run([]);
    for (let i = 0; i < 5; i++) db.prepare('insert into t (v) values (?)').run([`v${i}`]);
    expect(db.prepare('select v from t where id = ?').all([2])).toEqual([{ v: 'v1' }]);
    expect(db.prepare('select v from t where id = ?').all([5])).toEqual([{ v: 'v4' }]);
    expect(prepared()).toBe(3);
  });

  it('never hands out a statement that is still being iterated', () => {
    const { counting, prepared } = open();
    const db = cachingStatements(counting);
    db.prepare('create table t (id integer primary key)').run([]);
    for (let i = 1; i <= 3; i++) db.prepare('insert into t (id) values (?)').run([i]);
    const pairs: [unknown, unknown][] = [];
    // The same query nested inside its own iteration: the inner one must get a statement of its own.
    for (const outer of db.prepare('select id from t order by id').iterate([]))
      for (const inner of db.prepare('select id from t order by id').iterate([])) pairs.push([outer, inner]);
    expect(pairs).toHaveLength(9);
    // create, insert, the outer select (cached), and a fresh inner one on each of the 3 outer rows.
    expect(prepared()).toBe(6);
    expect(db.prepare('select id from t order by id').all([])).toHaveLength(3);
    expect(prepared()).toBe(6);
  });

  it('keeps at most `size` texts, dropping the least recently used', () => {
    const { counting, prepared } = open();
    const db = cachingStatements(counting, 2);
    const run = (n: number) => db.prepare(`select ${n} as n`).all([]);
    run(1);
    run(2);
    run(1); // 1 is now more recent than 2
    run(3); // evicts 2
    run(1);
    expect(prepared()).toBe(3);
    run(2);
    expect(prepared()).toBe(4);
  });

  it('sees schema changes made after a statement was cached (SQLite re-prepares it)', async () => {
    const { counting } = open();
    const db = new Kysely<{ t: { id: number; extra?: string | null } }>({
      dialect: new SqliteDialect({ database: cachingStatements(counting) }),
    });
    await db.schema
      .createTable('t')
      .addColumn('id', 'integer', (c) => c.primaryKey())
      .execute();
    await db.insertInto('t').values({ id: 1 }).execute();
    expect(await db.selectFrom('t').selectAll().execute()).toEqual([{ id: 1 }]);
    await db.schema.alterTable('t').addColumn('extra', 'text').execute();
    expect(await db.selectFrom('t').selectAll().execute()).toEqual([{ id: 1, extra: null }]);
    await db.destroy();
    expect(raw.open).toBe(false);
  });
});

describe('transactions on a shared file', () => {
  it('take the write lock at begin, so another process queues instead of failing on a stale snapshot', async () => {
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'enclave-begin-'));
    raw = new Database(join(dir, 'db.sqlite'));
    raw.pragma('journal_mode = WAL');
    raw.exec('create table t (id integer primary key)');
    const other = new Database(join(dir, 'db.sqlite'));
    other.pragma('busy_timeout = 0');
    try {
      const db = new Kysely<{ t: { id: number } }>({
        dialect: new SqliteDialect({ database: cachingStatements(raw) }),
      });
      await db.transaction().execute(async (tx) => {
        await tx.selectFrom('t').selectAll().execute();
        // Inside our read-only-so-far transaction, another writer is already locked out.
        expect(() => other.exec('insert into t (id) values (1)')).toThrow(/busy|locked/i);
      });
      other.exec('insert into t (id) values (1)');
      expect(other.prepare('select count(*) as n from t').get()).toEqual({ n: 1 });
    } finally {
      other.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
