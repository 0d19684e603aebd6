import { spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import type { AuditEntry } from '../../src/audit/audit-entry.js';
import type { AuditLog } from '../../src/audit/audit-log.js';
import { sampleVerdictRow } from '../../src/audit/audit-test-support.js';
import { keyIdOf, type SigningKey } from '../../src/audit/signing-key.js';
import { createStoreAuditLog } from '../../src/audit/store-audit-log.js';
import { verifyLog } from '../../src/audit/verify-log.js';
import { openStore } from '../../src/store/open-store.js';
import type { Store } from '../../src/store/store.js';
import { createTestDatabase, engines, type TestDatabase } from '../support/stores.js';
import { rawDatabase, type RawDatabase } from './audit-raw.js';

const newKey = (): SigningKey => {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return { privateKey, publicKey, keyId: keyIdOf(publicKey) };
};

const entry = (n: number, tenant = 'tenant-a'): AuditEntry => ({
  type: n % 2 ? 'access.allow' : 'access.deny',
  time: 1_700_000_000_000 + n,
  tenant,
  principal: `key_${n}`,
  decision: n % 2 ? 'allow' : 'deny',
  objectId: `resp_${n}`,
  objectLabel: 'SECRET//SI',
  label: 'SECRET//SI',
});

for (const engine of engines) {
  describe(`audit log contract [${engine}]`, () => {
    const open: { db: TestDatabase; stores: Store[]; logs: AuditLog[]; raw?: RawDatabase }[] = [];
    afterEach(async () => {
      for (const o of open.splice(0)) {
        for (const log of o.logs) await log.close();
        await o.raw?.close();
        for (const s of o.stores) await s.close();
        await o.db.drop();
      }
    });

    async function fresh(key = newKey()) {
      const db = await createTestDatabase(engine);
      const store = await openStore({ databaseUrl: db.databaseUrl, dataDir: db.dataDir });
      const log = createStoreAuditLog({ store, signingKey: key, maxBatch: 8 });
      const handle: (typeof open)[number] = { db, stores: [store], logs: [log] };
      open.push(handle);
      const raw = async () => (handle.raw ??= await rawDatabase(db));
      return { db, store, log, key, raw };
    }

    /** 20 entries with checkpoints at 10 and 20. */
    async function populated() {
      const f = await fresh();
      const first = await Promise.all(Array.from({ length: 10 }, (_, i) => f.log.append(entry(i))));
      await f.log.checkpoint();
      await Promise.all(Array.from({ length: 10 }, (_, i) => f.log.append(entry(i + 10))));
      await f.log.checkpoint();
      expect(first.map((r) => r.index)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      const report = await verifyLog(f.store.audit, [f.key.publicKey]);
      expect(report).toEqual({ ok: true, entries: 20, checkpoints: 2 });
      return f;
    }

    it('assigns consecutive indexes to concurrent appends across batches and stores canonical entries', async () => {
      const { log, store } = await fresh();
      const receipts = await Promise.all(Array.from({ length: 50 }, (_, i) => log.append(entry(i))));
      expect(receipts.map((r) => r.index)).toEqual(Array.from({ length: 50 }, (_, i) => i));
      const rows = await store.audit.entries(0, 100);
      expect(rows.map((r) => r.leafHash)).toEqual(receipts.map((r) => r.leafHash));
      expect(rows[3]?.entry).toBe(
        '{"decision":"allow","label":"SECRET//SI","objectId":"resp_3","objectLabel":"SECRET//SI","principal":"key_3","tenant":"tenant-a","time":1700000000003,"type":"access.allow"}',
      );
      expect((await store.audit.head()).treeSize).toBe(50);
      expect(await store.audit.leafHashes(10, 13)).toEqual(receipts.slice(10, 13).map((r) => r.leafHash));
    });

    it("commits entries inside a caller's transaction, in order with group-committed appends, or not at all", async () => {
      const { log, store, key } = await fresh();
      await Promise.all([0, 1, 2].map((i) => log.append(entry(i))));
      // Within a transaction that also writes a row: both commit, the entries take the next indexes.
      let durable: (() => Promise<{ index: number }[]>) | undefined;
      await store.transaction(async (tx) => {
        await tx.safety.insertVerdict(sampleVerdictRow('sv_kept', 'tenant-a'));
        durable = await log.appendWithin(tx, [entry(3), entry(4)]);
      });
      expect((await durable!()).map((r) => r.index)).toEqual([3, 4]);
      // A transaction that fails after appending rolls back its entries and its row; the head is unchanged.
      await expect(
        store.transaction(async (tx) => {
          await tx.safety.insertVerdict(sampleVerdictRow('sv_lost', 'tenant-a'));
          await log.appendWithin(tx, [entry(5)]);
          throw new Error('the turn failed');
        }),
      ).rejects.toThrow('the turn failed');
      expect((await store.audit.head()).treeSize).toBe(5);
      expect(await store.safety.verdictById('tenant-a', 'sv_lost')).toBeUndefined();
      expect(await store.safety.verdictById('tenant-a', 'sv_kept')).toBeDefined();
      // Appends after it continue the same tree, and the whole log verifies.
      expect((await log.append(entry(6))).index).toBe(5);
      await log.checkpoint();
      expect(await verifyLog(store.audit, [key.publicKey])).toEqual({ ok: true, entries: 6, checkpoints: 1 });
    });

    it('stores one checkpoint per tree size and returns the latest', async () => {
      const { log, store } = await fresh();
      await log.append(entry(1));
      const a = await log.checkpoint();
      const again = await log.checkpoint();
      expect(again).toEqual(a);
      await log.append(entry(2));
      const b = await log.checkpoint();
      expect(b.treeSize).toBe(2);
      expect((await store.audit.checkpoints()).map((c) => c.treeSize)).toEqual([1, 2]);
      expect(await log.latestCheckpoint()).toEqual(b);
    });

    it('rejects every append of a failed batch and writes nothing of it (fail-closed)', async () => {
      const { store, key } = await fresh();
      let failing = true;
      const faulty: Store = {
        ...store,
        transaction: (fn) =>
          store.transaction((tx) =>
            fn({
              ...tx,
              audit: {
                ...tx.audit,
                // The fault strikes after the entries were inserted, so a partial batch would be visible.
                setHead: async (head) => {
                  if (failing) throw new Error('disk full');
                  return tx.audit.setHead(head);
                },
              },
            }),
          ),
      };
      const log = createStoreAuditLog({ store: faulty, signingKey: key, maxBatch: 4 });
      const results = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => log.append(entry(i))));
      expect(
        results.every(
          (r) => r.status === 'rejected' && (r.reason as { code?: string }).code === 'audit_unavailable',
        ),
      ).toBe(true);
      expect(await store.audit.entries(0, 100)).toEqual([]);
      expect((await store.audit.head()).treeSize).toBe(0);
      failing = false;
      expect((await log.append(entry(99))).index).toBe(0);
      await log.close();
      expect((await verifyLog(store.audit, [key.publicKey])).ok).toBe(true);
    });

    it('keeps one gapless log when two processes append at once', async () => {
      const { db, store, key } = await fresh();
      const script = fileURLToPath(new URL('../support/audit-appender.ts', import.meta.url));
      const run = (name: string) =>
        new Promise<number[]>((resolve, reject) => {
          const child = spawn(process.execPath, ['--import', 'tsx', script, '150', name], {
            env: { ...process.env, ENCLAVE_DATA_DIR: db.dataDir, DATABASE_URL: db.databaseUrl ?? '' },
            stdio: ['ignore', 'pipe', 'inherit'],
          });
          let out = '';
          child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
          child.on('exit', (code) =>
            code === 0 ? resolve(JSON.parse(out) as number[]) : reject(new Error(`appender exit ${code}`)),
          );
        });
      const [a, b] = await Promise.all([run('p1'), run('p2')]);
      expect([...a, ...b].sort((x, y) => x - y)).toEqual(Array.from({ length: 300 }, (_, i) => i));
      expect(await verifyLog(store.audit, [key.publicKey])).toMatchObject({ ok: true, entries: 300 });
    }, 60_000);

    describe('tampering directly in the database is found at the first bad index', () => {
      it('modified entry', async () => {
        const f = await populated();
        await (
          await f.raw()
        ).exec(`UPDATE audit_entries SET entry = replace(entry, 'key_7', 'key_8') WHERE "index" = 7`);
        expect(await verifyLog(f.store.audit, [f.key.publicKey])).toMatchObject({
          ok: false,
          firstBadIndex: 7,
        });
      });

      it('modified entry with a recomputed leaf hash (caught by the checkpoint, named as the range start)', async () => {
        const f = await populated();
        const raw = await f.raw();
        const { leafHash } = await import('../../src/audit/merkle-hash.js');
        const { leafData } = await import('../../src/audit/audit-entry.js');
        const [row] = await f.store.audit.entries(13, 1);
        const forged = (row?.entry ?? '').replace('key_13', 'key_66');
        await raw.exec(
          `UPDATE audit_entries SET entry = '${forged}', leaf_hash = '${leafHash(leafData(13, forged)).toString('hex')}' WHERE "index" = 13`,
        );
        const report = await verifyLog(f.store.audit, [f.key.publicKey]);
        expect(report).toMatchObject({ ok: false, firstBadIndex: 10 });
        expect(report.problem).toContain('[10, 20)');
      });

      it('deleted entry', async () => {
        const f = await populated();
        await (await f.raw()).exec(`DELETE FROM audit_entries WHERE "index" = 5`);
        expect(await verifyLog(f.store.audit, [f.key.publicKey])).toMatchObject({
          ok: false,
          firstBadIndex: 5,
        });
      });

      it('deleted last entry', async () => {
        const f = await populated();
        await (await f.raw()).exec(`DELETE FROM audit_entries WHERE "index" = 19`);
        expect(await verifyLog(f.store.audit, [f.key.publicKey])).toMatchObject({
          ok: false,
          firstBadIndex: 19,
        });
      });

      it('reordered entries', async () => {
        const f = await populated();
        const raw = await f.raw();
        await raw.exec(`UPDATE audit_entries SET "index" = -1 WHERE "index" = 3`);
        await raw.exec(`UPDATE audit_entries SET "index" = 3 WHERE "index" = 8`);
        await raw.exec(`UPDATE audit_entries SET "index" = 8 WHERE "index" = -1`);
        expect(await verifyLog(f.store.audit, [f.key.publicKey])).toMatchObject({
          ok: false,
          firstBadIndex: 3,
        });
      });

      it('inserted entry (later rows shifted up)', async () => {
        const f = await populated();
        const raw = await f.raw();
        await raw.exec(`UPDATE audit_entries SET "index" = -("index" + 1) WHERE "index" >= 12`);
        await raw.exec(`UPDATE audit_entries SET "index" = -"index" WHERE "index" < 0`);
        await raw.exec(
          `INSERT INTO audit_entries ("index", leaf_hash, entry, created_at) SELECT 12, leaf_hash, entry, created_at FROM audit_entries WHERE "index" = 2`,
        );
        expect(await verifyLog(f.store.audit, [f.key.publicKey])).toMatchObject({
          ok: false,
          firstBadIndex: 12,
        });
      });

      it('entry inserted past the head', async () => {
        const f = await populated();
        await (
          await f.raw()
        ).exec(
          `INSERT INTO audit_entries ("index", leaf_hash, entry, created_at) SELECT 20, leaf_hash, entry, created_at FROM audit_entries WHERE "index" = 19`,
        );
        expect(await verifyLog(f.store.audit, [f.key.publicKey])).toMatchObject({
          ok: false,
          firstBadIndex: 20,
        });
      });

      it('forged checkpoint root or signature', async () => {
        const f = await populated();
        const raw = await f.raw();
        await raw.exec(`UPDATE audit_checkpoints SET root_hash = '${'ab'.repeat(32)}' WHERE tree_size = 10`);
        const report = await verifyLog(f.store.audit, [f.key.publicKey]);
        expect(report.ok).toBe(false);
        expect(report.problem).toMatch(/tree size 10 has a bad signature/);
        expect(await verifyLog(f.store.audit, [newKey().publicKey])).toMatchObject({ ok: false });
      });
    });
  });
}
