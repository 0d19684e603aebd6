/**
 * Runs every benchmark in bench/ one after another (each is bounded), or the ones named:
 *   npm run bench            # all
 *   npm run bench -- http    # bench/http.ts only
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';

const helpers = new Set(['run.ts', 'support.ts']);
const wanted = process.argv.slice(2);
const benches = readdirSync(new URL('.', import.meta.url))
  .filter((f) => f.endsWith('.ts') && !helpers.has(f))
  .filter((f) => wanted.length === 0 || wanted.includes(f.replace(/\.ts$/, '')));

let failed = 0;
for (const bench of benches) {
  console.log(`\n## ${bench}\n`);
  const run = spawnSync('npx', ['tsx', `bench/${bench}`], { stdio: 'inherit' });
  if (run.status !== 0) failed += 1;
}
process.exit(failed > 0 ? 1 : 0);
