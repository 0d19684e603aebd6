/**
 * Audit log bench (bounded, well under 2 minutes):
 *   npx tsx bench/audit.ts [seconds-per-phase=4] [verify-entries=1000000]
 * 1. appends/s with 64 concurrent writers on SQLite with durable commits (WAL, synchronous=FULL: every commit
 *    fsyncs), group commit vs a baseline of plain single-row INSERTs (one autocommit each) in the same run;
 * 2. live verification time for N entries (recompute every leaf hash and the whole tree).
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql, type Kysely } from 'kysely';
import type { AuditEntry } from '../src/audit/audit-entry.js';
import { keyIdOf } from '../src/audit/signing-key.js';
import { createStoreAuditLog } from '../src/audit/store-audit-log.js';
import { verifyLog } from '../src/audit/verify-log.js';
import { migrateToLatest } from '../src/store/migrate.js';
import { openSqlite } from '../src/store/sqlite/open-sqlite.js';
import { createStore, type Store } from '../src/store/store.js';

const seconds = Number(process.argv[2] ?? 4);
const verifyEntries = Number(process.argv[3] ?? 1_000_000);
const writers = 64;
const { privateKey, publicKey } = generateKeyPairSync('ed25519');
const signingKey = { privateKey, publicKey, keyId: keyIdOf(publicKey) };

const entry = (n: number): AuditEntry => ({
  type: 'access.allow',
  time: 1_700_000_000_000 + n,
  tenant: 'acme',
  principal: `key_${n % 97}`,
  onBehalfOf: `user-${n % 13}`,
  decision: 'allow',
  rule: 'clearance-dominates',
  objectId: `resp_${n}`,
  objectLabel: 'SECRET//SI//REL TO USA, GBR',
  sessionLabel: 'SECRET//SI//REL TO USA, GBR',
  endpoint: 'openai/gpt-4.1-mini',
  label: 'SECRET//SI//REL TO USA, GBR',
});

async function durableStore(dir: string): Promise<{ store: Store; db: Kysely<unknown> }> {
  const { db } = openSqlite({ path: join(dir, 'enclave.db'), synchronous: 'FULL' });
  await migrateToLatest(db as Kysely<unknown>, 'sqlite');
  return { store: createStore(db, 'sqlite', () => db.destroy()), db: db as Kysely<unknown> };
}

/** Runs 64 writers, each awaiting its own operation in a loop, for `seconds`; returns operations per second. */
async function concurrently(op: (n: number) => Promise<unknown>, perWriter = 1): Promise<number> {
  let done = 0;
  const until = performance.now() + seconds * 1000;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: writers * perWriter }, async () => {
      while (performance.now() < until) await op(done++);
    }),
  );
  return done / ((performance.now() - start) / 1000);
}

const dir = mkdtempSync(join(tmpdir(), 'enclave-bench-audit-'));
try {
  const baseline = await durableStore(mkdtempSync(join(dir, 'b-')));
  await sql`create table plain_audit (id integer primary key, entry text not null, created_at bigint not null)`.execute(
    baseline.db,
  );
  const baselineRate = await concurrently((n) =>
    sql`insert into plain_audit (id, entry, created_at) values (${n}, ${JSON.stringify(entry(n))}, ${Date.now()})`.execute(
      baseline.db,
    ),
  );
  await baseline.store.close();

  const grouped = await durableStore(mkdtempSync(join(dir, 'g-')));
  const log = createStoreAuditLog({ store: grouped.store, signingKey });
  const groupRate = await concurrently((n) => log.append(entry(n)));
  // The same writers with 16 audit events each in flight (a request auditing its access, model call, verdict…).
  const pipelinedRate = await concurrently((n) => log.append(entry(n)), 16);
  await log.close();
  const appended = (await grouped.store.audit.head()).treeSize;
  await grouped.store.close();

  // Verification: fill a log with many appends in flight at once (large batches), then time a full verify.
  const big = await durableStore(mkdtempSync(join(dir, 'v-')));
  const filler = createStoreAuditLog({ store: big.store, signingKey, maxBatch: 20_000 });
  const fillStart = performance.now();
  for (let n = 0; n < verifyEntries; n += 20_000) {
    await Promise.all(
      Array.from({ length: Math.min(20_000, verifyEntries - n) }, (_, i) => filler.append(entry(n + i))),
    );
  }
  await filler.checkpoint();
  await filler.close();
  const fillSeconds = (performance.now() - fillStart) / 1000;
  const verifyStart = performance.now();
  const report = await verifyLog(big.store.audit, [publicKey]);
  const verifySeconds = (performance.now() - verifyStart) / 1000;
  await big.store.close();

  console.log(`SQLite, WAL, synchronous=FULL, ${writers} concurrent writers, ${seconds} s per phase`);
  console.log('| target | appends/s |');
  console.log('|---|---:|');
  console.log(`| baseline: plain single-row INSERT, one commit each | ${baselineRate.toFixed(0)} |`);
  console.log(`| audit log: group commit + Merkle leaf/frontier | ${groupRate.toFixed(0)} |`);
  console.log(`| audit log, 16 appends in flight per writer (1024 total) | ${pipelinedRate.toFixed(0)} |`);
  console.log(
    `ratio group/baseline: ${(groupRate / baselineRate).toFixed(1)}x (${appended} entries appended)`,
  );
  console.log(
    `fill of ${verifyEntries} entries: ${fillSeconds.toFixed(1)} s (${(verifyEntries / fillSeconds).toFixed(0)}/s, batches of 20000)`,
  );
  console.log(
    `verify ${report.entries} entries + ${report.checkpoints} checkpoint: ${verifySeconds.toFixed(2)} s, ok=${report.ok}`,
  );
  if (!report.ok) process.exitCode = 1;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
