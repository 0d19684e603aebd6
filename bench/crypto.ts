/**
 * Encryption-at-rest overhead per stored item (1 KiB of text), bounded (< 30 s):
 *   npx tsx bench/crypto.ts
 * Baselines measured side by side in the same run: a plain copy of the text (what storing plaintext costs
 * in-process) and one SQLite insert of the same row (autocommit, WAL, synchronous=NORMAL). Rounds are
 * interleaved so background load hits every variant alike; the median round is reported.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createContentCipher, type SealContext } from '../src/crypto/content-cipher.js';
import { DataKeys } from '../src/crypto/data-keys.js';
import { defaultKekPath, LocalKeyProvider } from '../src/crypto/local-key-provider.js';
import { sqliteKeyFor } from '../src/crypto/sqlite-key.js';
import { openStore } from '../src/store/open-store.js';
import { openSqlite } from '../src/store/sqlite/open-sqlite.js';

const ROUNDS = 5;
const ROUND_MS = 500;
const dir = mkdtempSync(join(tmpdir(), 'enclave-bench-crypto-'));
const text = randomBytes(768).toString('base64'); // 1024 ASCII characters
const audit = { append: async () => undefined };

const store = await openStore({ dataDir: dir, sqliteFile: 'keys.db' });
const provider = new LocalKeyProvider(defaultKekPath(dir));
const warm = createContentCipher(new DataKeys({ repo: store.dataKeys, provider, audit }));
// A zero-age cache: every open reads the wrapped key row and unwraps it (the cost after a restart).
const cold = createContentCipher(new DataKeys({ repo: store.dataKeys, provider, audit, cacheTtlMs: 0 }));
const ctx = (i: number): SealContext => ({
  tenant: 't',
  objectId: `msg_${i}`,
  kind: 'message',
  label: 'lbl_x',
  scope: 'conversation:c',
});
const sealed = await warm.seal(ctx(0), text);

const plainDb = openSqlite({ path: join(dir, 'plain.db') }).raw;
const encDb = openSqlite({
  path: join(dir, 'enc.db'),
  key: await sqliteKeyFor(dir, { env: {}, databaseFile: 'enc.db' }),
}).raw;
for (const db of [plainDb, encDb]) db.exec('CREATE TABLE items (id INTEGER PRIMARY KEY, body TEXT NOT NULL)');
const insertPlain = plainDb.prepare('INSERT INTO items (body) VALUES (?)');
const insertEnc = encDb.prepare('INSERT INTO items (body) VALUES (?)');

let sink = 0;
const variants: Record<string, (i: number) => unknown> = {
  'plain copy (baseline)': () => (sink += Buffer.from(text, 'utf8').toString('utf8').length),
  'seal (AES-256-GCM, warm key)': (i) => warm.seal(ctx(i), text),
  'open (warm key)': () => warm.open(ctx(0), sealed),
  'seal + open (warm key)': async (i) => warm.open(ctx(i), await warm.seal(ctx(i), text)),
  'open, key unwrapped from the store each time': () => cold.open(ctx(0), sealed),
  'SQLite insert, plain file (baseline)': () => insertPlain.run(text),
  'SQLite insert, SQLCipher file': () => insertEnc.run(text),
  'seal + SQLite insert, SQLCipher file': async (i) => insertEnc.run(await warm.seal(ctx(i), text)),
};

async function round(fn: (i: number) => unknown): Promise<number> {
  const end = performance.now() + ROUND_MS;
  let n = 0;
  const start = performance.now();
  while (performance.now() < end) {
    for (let k = 0; k < 50; k++) await fn(n++);
  }
  return ((performance.now() - start) * 1000) / n; // µs per item
}

const samples = new Map<string, number[]>(Object.keys(variants).map((k) => [k, []]));
for (let r = 0; r < ROUNDS; r++) {
  for (const [name, fn] of Object.entries(variants)) samples.get(name)?.push(await round(fn));
}
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const us = new Map([...samples].map(([k, v]) => [k, median(v)]));
const copy = us.get('plain copy (baseline)') ?? NaN;
const insert = us.get('SQLite insert, plain file (baseline)') ?? NaN;

console.log(`1 KiB items, ${ROUNDS} interleaved rounds of ${ROUND_MS} ms, median round (sink ${sink > 0})\n`);
console.log('| operation | µs / item | × plain copy | × plain SQLite insert |');
console.log('|---|---:|---:|---:|');
for (const [name, value] of us) {
  console.log(
    `| ${name} | ${value.toFixed(2)} | ${(value / copy).toFixed(1)} | ${(value / insert).toFixed(2)} |`,
  );
}
console.log(
  `\nsealed size: ${sealed.length} characters for ${text.length} (+${sealed.length - text.length})`,
);

plainDb.close();
encDb.close();
await store.close();
rmSync(dir, { recursive: true, force: true });
