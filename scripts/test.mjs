// Runs the whole vitest suite and ends with the plain `N passed, N failed` line CI reads.
// Extra arguments are passed to vitest (e.g. a path filter).
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';

// The storage contract suite runs on SQLite and on a real PostgreSQL. Without a given server
// (ENCLAVE_TEST_PG_URL), start a throwaway cluster around this run when the binaries exist.
if (!process.env.ENCLAVE_TEST_PG_URL && process.env.ENCLAVE_TEST_PG !== 'off') {
  const probe = spawnSync('bash', ['-c', 'command -v initdb || ls /usr/lib/postgresql/*/bin/initdb'], { stdio: 'ignore' });
  if (probe.status === 0) {
    const wrapped = spawnSync('bash', ['scripts/with-postgres.sh', process.execPath, ...process.argv.slice(1)], {
      stdio: 'inherit',
    });
    process.exit(wrapped.status ?? 1);
  }
  process.stderr.write('PostgreSQL binaries not found: the PostgreSQL half of the suite is skipped.\n');
}

const out = '.tmp/vitest-results.json';
mkdirSync('.tmp', { recursive: true });
rmSync(out, { force: true });
const run = spawnSync(
  process.execPath,
  ['node_modules/vitest/vitest.mjs', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${out}`, ...process.argv.slice(2)],
  { stdio: 'inherit' },
);
let passed = 0;
let failed = 0;
let skipped = 0;
try {
  const results = JSON.parse(readFileSync(out, 'utf8'));
  passed = results.numPassedTests;
  failed = results.numFailedTests + (results.numRuntimeErrorTestSuites ?? 0);
  skipped = results.numPendingTests + results.numTodoTests;
  for (const suite of results.testResults) if (suite.status === 'failed' && suite.assertionResults.length === 0) failed += 1;
} catch {
  failed += 1;
}
const code = run.status ?? 1;
if (code !== 0 && failed === 0) failed = 1;
process.stdout.write(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}\n`);
process.exit(failed > 0 ? 1 : code);
