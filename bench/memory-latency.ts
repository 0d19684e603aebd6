/**
 * Memory search latency (p50/p95) at 10k and 100k records of one user, SQLite and (when
 * ENCLAVE_TEST_PG_URL is set) PostgreSQL. Baseline side by side on SQLite: FTS5's own bm25() over the
 * same texts (unstemmed, no label/owner filter), the engine's native full-text path.
 *   npx tsx bench/memory-latency.ts [sizes...]          # SQLite, default sizes 10000 100000
 *   bash scripts/with-postgres.sh npx tsx bench/memory-latency.ts   # also PostgreSQL
 * The store seals memory text and blinds its terms as the server's does (MEMORY_PLAIN=1: the plain store).
 * On PostgreSQL each size is measured twice: right after the bulk load (the inserted rows are not yet
 * all-visible, so an index-only scan still visits the heap, and the planner has no statistics), then after
 * `VACUUM ANALYZE` of the memory tables, which autovacuum does on its own in a running deployment (after
 * 1000 + 20 % inserted rows, within a minute). Both rows are printed.
 * Bounded: 200 queries per size and engine. Synthetic text: a Zipf-distributed 20k-word vocabulary
 * without its 50 most frequent ranks (the stop words an analyzer drops).
 */
import Database from 'better-sqlite3-multiple-ciphers';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { createEncryption, sealContent } from '../src/crypto/index.js';
import { queryTerms, termWeights } from '../src/memory/index-document.js';
import { openStore } from '../src/store/open-store.js';
import type { Store } from '../src/store/store.js';

const sizes = process.argv
  .slice(2)
  .map(Number)
  .filter((n) => n > 0);
const SIZES = sizes.length ? sizes : [10_000, 100_000];
const QUERIES = 200;

let seed = 42;
const rand = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
const VOCAB = Array.from({ length: 20_000 }, (_, i) => `w${i.toString(36)}x`);
// Zipf ranks from 50 on: the analyzer drops stop words, so the most frequent ranks never reach the index.
// Log-uniform rank = Zipf with exponent 1 (p(r) ∝ 1/r) over ranks 50..20k.
const word = () => VOCAB[Math.min(VOCAB.length - 1, Math.floor(50 * (VOCAB.length / 50) ** rand()))] ?? 'w0x';
const sentence = (n: number) => Array.from({ length: n }, word).join(' ');

const pct = (xs: number[], p: number) =>
  xs.sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))] ?? 0;

async function fill(store: Store, tenantId: string, labelId: string, n: number, texts: string[]) {
  for (let i = 0; i < n; i += 1000) {
    await store.transaction(async (tx) => {
      for (let j = i; j < Math.min(n, i + 1000); j++) {
        const text = texts[j] ?? '';
        await tx.memory.records.insert({
          id: `r${n}_${j}`,
          owner: { tenantId, userId: 'u', agentId: '' },
          kind: 'episode',
          text,
          subject: null,
          attribute: null,
          value: null,
          conversationId: 'c',
          sourceIds: [`t${j}`],
          labelId,
          validFrom: j,
          validTo: null,
          recordedAt: j,
          supersededAt: null,
          supersededBy: null,
          terms: termWeights([{ text, weight: 1 }]),
          sourceKeys: [],
        });
      }
    });
  }
}

async function measure(store: Store, tenantId: string, labelId: string, queries: string[]) {
  const reader = { scope: { tenantId, labelIds: [labelId] }, userId: 'u', agentId: '' };
  const times: number[] = [];
  for (const q of queries) {
    const t = performance.now();
    await store.memory.records.searchBm25(reader, queryTerms(q), { limit: 10 });
    times.push(performance.now() - t);
  }
  return { p50: pct(times, 0.5), p95: pct(times, 0.95) };
}

function fts5Baseline(texts: string[], queries: string[]) {
  const db = new Database(':memory:');
  db.exec('CREATE VIRTUAL TABLE f USING fts5(text)');
  const ins = db.prepare('INSERT INTO f(rowid, text) VALUES (?, ?)');
  db.transaction(() => texts.forEach((t, i) => ins.run(i + 1, t)))();
  const q = db.prepare('SELECT rowid, bm25(f) s FROM f WHERE f MATCH ? ORDER BY s LIMIT 10');
  const times: number[] = [];
  for (const query of queries) {
    const t = performance.now();
    q.all(
      query
        .split(' ')
        .map((w) => `"${w}"`)
        .join(' OR '),
    );
    times.push(performance.now() - t);
  }
  db.close();
  return { p50: pct(times, 0.5), p95: pct(times, 0.95) };
}

async function main() {
  const engines: { name: string; url?: string }[] = [{ name: 'sqlite' }];
  const adminUrl = process.env.ENCLAVE_TEST_PG_URL;
  const dbName = `enclave_bench_${process.pid}`;
  if (adminUrl) {
    const c = new pg.Client({ connectionString: adminUrl });
    await c.connect();
    await c.query(`CREATE DATABASE ${dbName}`);
    await c.end();
    const url = new URL(adminUrl);
    url.pathname = `/${dbName}`;
    engines.push({ name: 'postgres', url: url.toString() });
  }
  console.log('| engine | records | p50 ms | p95 ms | FTS5 baseline p50 / p95 ms | p95 ratio |');
  console.log('|---|---:|---:|---:|---:|---:|');
  for (const size of SIZES) {
    seed = 42;
    const texts = Array.from({ length: size }, () => sentence(8 + Math.floor(rand() * 25)));
    const queries = Array.from({ length: QUERIES }, () => sentence(3 + Math.floor(rand() * 5)));
    const base = fts5Baseline(texts, queries);
    for (const engine of engines) {
      const dataDir = mkdtempSync(join(tmpdir(), 'enclave-memlat-'));
      const plain = await openStore({ dataDir, databaseUrl: engine.url });
      // Only shreds and key changes append to the audit log; the bench does neither.
      const encryption = createEncryption({
        repo: plain.dataKeys,
        dataDir,
        audit: { append: async () => 0 },
      });
      const store = process.env.MEMORY_PLAIN === '1' ? plain : sealContent(plain, encryption);
      const tenantId = `bench${size}`;
      await store.tenants.ensure(tenantId);
      const labelId = await store.labels.ensure('UNCLASSIFIED');
      await fill(store, tenantId, labelId, size, texts);
      const row = (name: string, r: { p50: number; p95: number }) =>
        console.log(
          `| ${name} | ${size} | ${r.p50.toFixed(2)} | ${r.p95.toFixed(2)} | ${base.p50.toFixed(2)} / ${base.p95.toFixed(2)} | ${(r.p95 / base.p95).toFixed(1)} |`,
        );
      row(engine.name, await measure(store, tenantId, labelId, queries));
      if (engine.url) {
        const c = new pg.Client({ connectionString: engine.url });
        await c.connect();
        await c.query('VACUUM ANALYZE memory_terms, memory_records');
        await c.end();
        row(`${engine.name} (after VACUUM ANALYZE)`, await measure(store, tenantId, labelId, queries));
      }
      await store.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  }
  if (adminUrl) {
    const c = new pg.Client({ connectionString: adminUrl });
    await c.connect();
    await c.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    await c.end();
  }
}

void main();
