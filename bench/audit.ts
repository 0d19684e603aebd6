/**
 * Audit log bench (bounded, about 70 s):
 *   npx tsx bench/audit.ts [seconds-per-phase=4] [verify-entries=1000000]
 * 1. appends/s with 64 concurrent writers, each awaiting its append, on SQLite in WAL mode:
 *    - baseline: plain single-row INSERTs, one synchronous=FULL commit (one fsync) each, same run;
 *    - the audit log with `durable: false` (the store's synchronous=NORMAL: survives a killed process);
 *    - the audit log with `durable: true` (default: each batch commits with NORMAL, then the WAL is fsynced off
 *      the main thread before its appends resolve: survives a power cut), on a plain file and on the
 *      whole-file encrypted database the server uses;
 * 2. live verification time for N entries (recompute every leaf hash and the whole tree).
 * With DATABASE_URL set the same phases run on PostgreSQL (baseline: single-row INSERTs, one commit each; the
 * audit tables are emptied before each phase), e.g.
 *   bash scripts/with-postgres.sh sh -c 'DATABASE_URL=$ENCLAVE_TEST_PG_URL npx tsx bench/audit.ts 4 200000'
 * (that script's cluster runs with fsync=off; the bench prints the server's fsync setting).
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql, type Kysely } from 'kysely';
import type { AuditEntry } from '../src/audit/audit-entry.js';
import { keyIdOf } from '../src/audit/signing-key.js';
import { createStoreAuditLog } from '../src/audit/store-audit-log.js';
import { verifyLog } from '../src/audit/verify-log.js';
import { migrateToLatest } from '../src/store/migrate.js';
import { openPostgres } from '../src/store/postgres/open-postgres.js';
import { openSqlite } from '../src/store/sqlite/open-sqlite.js';
import { createStore, type Store } from '../src/store/store.js';

const seconds = Number(process.argv[2] ?? 4);
const verifyEntries = Number(process.argv[3] ?? 1_000_000);
const writers = 64;
const databaseUrl = process.env.DATABASE_URL;
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

async function openStore(
  dir: string,
  options: { synchronous?: 'FULL'; key?: Buffer } = {},
): Promise<{ store: Store; db: Kysely<unknown> }> {
  if (databaseUrl) {
    // One database for every phase: the audit tables start empty each time.
    const { db } = openPostgres({ url: databaseUrl, maxConnections: 4 });
    await migrateToLatest(db as Kysely<unknown>, 'postgres');
    await sql`truncate audit_entries, audit_checkpoints`.execute(db);
    await sql`update audit_head set tree_size = 0, frontier = '{"nodes":[],"size":0}' where id = 1`.execute(
      db,
    );
    await sql`drop table if exists plain_audit`.execute(db);
    return { store: createStore(db, 'postgres', () => db.destroy()), db: db as Kysely<unknown> };
  }
  const { db } = openSqlite({ path: join(dir, 'enclave.db'), ...options });
  await migrateToLatest(db as Kysely<unknown>, 'sqlite');
  return { store: createStore(db, 'sqlite', () => db.destroy()), db: db as Kysely<unknown> };
}

interface Rate {
  /** Operations per second of wall time. */
  rate: number;
  /** Process CPU (user + system, all threads) per operation, µs: the figure other load on the machine moves least. */
  cpuUs: number;
}

/** Runs 64 writers, each awaiting its own operation in a loop, for `seconds`. */
async function concurrently(op: (n: number) => Promise<unknown>, perWriter = 1): Promise<Rate> {
  let done = 0;
  const until = performance.now() + seconds * 1000;
  const start = performance.now();
  const cpu = process.cpuUsage();
  await Promise.all(
    Array.from({ length: writers * perWriter }, async () => {
      while (performance.now() < until) await op(done++);
    }),
  );
  const used = process.cpuUsage(cpu);
  return { rate: done / ((performance.now() - start) / 1000), cpuUs: (used.user + used.system) / done };
}

const dir = mkdtempSync(join(tmpdir(), 'enclave-bench-audit-'));
try {
  const baseline = await openStore(mkdtempSync(join(dir, 'b-')), { synchronous: 'FULL' });
  await sql`create table plain_audit (id integer primary key, entry text not null, created_at bigint not null)`.execute(
    baseline.db,
  );
  const baselineRate = await concurrently((n) =>
    sql`insert into plain_audit (id, entry, created_at) values (${n}, ${JSON.stringify(entry(n))}, ${Date.now()})`.execute(
      baseline.db,
    ),
  );
  await baseline.store.close();

  /** Appends/s of a fresh audit log (64 writers, `perWriter` appends in flight each). */
  async function auditRate(durable: boolean, perWriter = 1, key?: Buffer): Promise<Rate> {
    const opened = await openStore(mkdtempSync(join(dir, 'g-')), key ? { key } : {});
    const log = createStoreAuditLog({ store: opened.store, signingKey, durable });
    const rate = await concurrently((n) => log.append(entry(n)), perWriter);
    await log.close();
    await opened.store.close();
    return rate;
  }
  const normalRate = await auditRate(false);
  const durableRate = await auditRate(true);
  const encryptedRate = databaseUrl ? undefined : await auditRate(true, 1, randomBytes(32));
  // The same writers with 16 audit events each in flight (a request auditing its access, model call, verdict…).
  const pipelinedRate = await auditRate(true, 16);

  // Verification: fill a log with many appends in flight at once (large batches), then time a full verify.
  const big = await openStore(mkdtempSync(join(dir, 'v-')));
  const filler = createStoreAuditLog({ store: big.store, signingKey, maxBatch: 20_000, durable: false });
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
  const verifyCpu = process.cpuUsage();
  const report = await verifyLog(big.store.audit, [publicKey]);
  const verifySeconds = (performance.now() - verifyStart) / 1000;
  const verifyCpuUsed = process.cpuUsage(verifyCpu);
  const verifyCpuSeconds = (verifyCpuUsed.user + verifyCpuUsed.system) / 1e6;
  let engineLine = `SQLite, WAL, ${writers} concurrent writers each awaiting its append, ${seconds} s per phase`;
  if (databaseUrl) {
    const settings = await sql<{
      fsync: string;
      synchronous_commit: string;
    }>`select current_setting('fsync') as fsync,
      current_setting('synchronous_commit') as synchronous_commit`.execute(big.db);
    const row = settings.rows[0];
    engineLine = `PostgreSQL (fsync=${row?.fsync}, synchronous_commit=${row?.synchronous_commit}), ${writers} concurrent writers each awaiting its append, ${seconds} s per phase`;
  }
  await big.store.close();
  console.log(engineLine);

  console.log('| target | appends/s | x baseline | CPU µs/append |');
  console.log('|---|---:|---:|---:|');
  const row = (name: string, r: Rate) =>
    console.log(
      `| ${name} | ${r.rate.toFixed(0)} | ${(r.rate / baselineRate.rate).toFixed(1)} | ${r.cpuUs.toFixed(1)} |`,
    );
  row(
    `baseline: plain single-row INSERT, one ${databaseUrl ? '' : 'synchronous=FULL '}commit each`,
    baselineRate,
  );
  row(
    `audit log, \`durable: false\` (${databaseUrl ? "the server's synchronous_commit" : 'synchronous=NORMAL: survives a killed process'})`,
    normalRate,
  );
  row(
    `audit log, \`durable: true\` (${databaseUrl ? 'synchronous_commit=on per batch' : 'commit, then WAL fsync off the main thread: survives a power cut'})`,
    durableRate,
  );
  if (encryptedRate !== undefined)
    row('audit log, `durable: true`, whole-file encrypted database (as `enclave serve`)', encryptedRate);
  row('audit log, `durable: true`, 16 appends in flight per writer (1024 in flight)', pipelinedRate);
  console.log(
    `fill of ${verifyEntries} entries: ${fillSeconds.toFixed(1)} s (${(verifyEntries / fillSeconds).toFixed(0)}/s, batches of 20000)`,
  );
  console.log(
    `verify ${report.entries} entries + ${report.checkpoints} checkpoint: ${verifySeconds.toFixed(2)} s wall, ${verifyCpuSeconds.toFixed(2)} s CPU, ok=${report.ok}`,
  );
  if (!report.ok) process.exitCode = 1;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
