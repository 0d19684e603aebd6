/**
 * What whole-file encryption costs a commit: the same small transaction (4 rows into a table with two secondary
 * indexes, as a turn's write touches) committed on a plain SQLite file, on SQLCipher v4 as Enclave opens it
 * (src/store/sqlite/open-sqlite.ts: raw key, HMAC-SHA512 page authentication), and on SQLCipher without page
 * HMAC (for reference only: it gives up page integrity). WAL, synchronous=NORMAL, fresh file each, same run.
 *   npx tsx bench/sqlite-commit.ts [transactions=3000]
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3-multiple-ciphers';
import { percentile } from './support.js';

const count = Number(process.argv[2] ?? 3000);
const key = `key="x'${randomBytes(32).toString('hex')}'"`;
const variants: [string, string[]][] = [
  ['plain file (baseline)', []],
  ['SQLCipher v4, as Enclave opens it', [`cipher='sqlcipher'`, 'legacy=4', key]],
  ['SQLCipher without page HMAC (reference)', [`cipher='sqlcipher'`, 'legacy=0', 'hmac_use=0', key]],
];

const rows: string[] = [];
let baseline = 0;
for (const round of [0, 1]) {
  for (const [name, pragmas] of variants) {
    const dir = mkdtempSync(join(tmpdir(), 'enclave-commit-'));
    const db = new Database(join(dir, 'bench.db'));
    for (const p of pragmas) db.pragma(p);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.exec(`create table t (id text primary key, a text, b integer, c text);
      create index t_b on t (b); create index t_a on t (a);`);
    const insert = db.prepare('insert into t values (?, ?, ?, ?)');
    const begin = db.prepare('begin immediate');
    const commit = db.prepare('commit');
    const commits: number[] = [];
    const started = performance.now();
    for (let i = 0; i < count; i++) {
      begin.run();
      for (let j = 0; j < 4; j++)
        insert.run(
          randomBytes(12).toString('hex'),
          randomBytes(8).toString('hex'),
          i * 4 + j,
          'x'.repeat(600),
        );
      const t = performance.now();
      commit.run();
      commits.push(performance.now() - t);
    }
    const perTx = (performance.now() - started) / count;
    const p50 = percentile(commits, 50);
    if (round === 1) {
      if (pragmas.length === 0) baseline = p50;
      rows.push(
        `| ${name} | ${p50.toFixed(3)} | ${(commits.reduce((a, b) => a + b, 0) / count).toFixed(3)} | ${perTx.toFixed(3)} | ${(p50 / baseline).toFixed(1)} |`,
      );
    }
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
console.log(`${count} transactions each (second of two rounds)\n`);
console.log('| file | commit p50 ms | commit mean ms | whole transaction mean ms | commit p50 × plain |');
console.log('|---|---:|---:|---:|---:|');
for (const r of rows) console.log(r);
