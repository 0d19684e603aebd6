/**
 * Durable runs: background runs/s through the job queue with one and two worker processes, and the time
 * a restarted worker takes to resume in-flight runs after kill -9. Baseline, same run: the same work
 * (two upstream model calls and one MCP tool call per run, same concurrency) done in-process with no store.
 *   npx tsx bench/runs.ts            # SQLite (two nodes = two processes on one database file)
 *   bash scripts/with-postgres.sh npx tsx bench/runs.ts   # also PostgreSQL (ENCLAVE_TEST_PG_URL)
 * Bounded: about a minute on SQLite.
 */
import { submitRun } from '../src/runs/run-commands.js';
import { baselineRunsPerSecond } from './runs-baseline.js';
import { openStore } from '../src/store/open-store.js';
import type { Store } from '../src/store/store.js';
import { startMcpHttpServer } from '../test/support/mcp-test-server.js';
import { startMockOpenAI } from '../test/support/mock-openai.js';
import { killHard, spawnRunWorker } from '../test/support/run-workers.js';
import { createTestDatabase, uniqueId, type Engine } from '../test/support/stores.js';

const RUNS = 120;
const CONCURRENCY = 8;
const upstream = await startMockOpenAI({ delayMs: 20 });
const mcp = await startMcpHttpServer();
const rows: string[][] = [];

const waitAll = async (store: Store, ids: string[]) => {
  for (;;) {
    const runs = await Promise.all(ids.map((id) => store.runs.byId(id)));
    if (runs.every((r) => r?.status === 'completed')) return;
    if (runs.some((r) => r?.status === 'failed')) throw new Error('a run failed');
    await new Promise((r) => setTimeout(r, 20));
  }
};

async function durable(
  engine: Engine,
  nodes: number,
): Promise<{ runsPerSecond: number; resumeMs: number; startMs: number }> {
  const database = await createTestDatabase(engine);
  const store = await openStore({ databaseUrl: database.databaseUrl, dataDir: database.dataDir });
  const env = {
    ENCLAVE_DATA_DIR: database.dataDir,
    ...(database.databaseUrl ? { DATABASE_URL: database.databaseUrl } : {}),
    MOCK_OPENAI_URL: upstream.url,
    MCP_URL: mcp.url,
    WORKER_CONCURRENCY: String(CONCURRENCY),
  };
  const workers = Array.from({ length: nodes }, () => spawnRunWorker(env));
  await Promise.all(workers.map((w) => w.ready));
  const labelId = await store.labels.ensure('UNCLASSIFIED');
  const ids = Array.from({ length: RUNS }, () => uniqueId('resp'));
  const start = performance.now();
  await Promise.all(
    ids.map((id, n) =>
      submitRun(store, { id, tenantId: 'bench', kind: 'agent', labelId, input: { principal: 'bench', n } }),
    ),
  );
  await waitAll(store, ids);
  const runsPerSecond = RUNS / ((performance.now() - start) / 1000);

  // Resume: kill -9 every node mid-batch, start one fresh node, time until every in-flight run moves again.
  upstream.options.delayMs = 200;
  const batch = Array.from({ length: 2 * CONCURRENCY }, () => uniqueId('resp'));
  await Promise.all(
    batch.map((id, n) =>
      submitRun(store, { id, tenantId: 'bench', kind: 'agent', labelId, input: { principal: 'bench', n } }),
    ),
  );
  for (;;) {
    const steps = (await Promise.all(batch.map((id) => store.runSteps.list(id)))).flat();
    if (steps.some((s) => s.status === 'completed') && steps.some((s) => s.status === 'started')) break;
    await new Promise((r) => setTimeout(r, 10));
  }
  await Promise.all(workers.map((w) => killHard(w.child)));
  const stuck = (await Promise.all(batch.map((id) => store.runSteps.list(id))))
    .flat()
    .filter((s) => s.status === 'started');
  const killedAt = performance.now();
  const fresh = spawnRunWorker(env);
  await fresh.ready;
  const startMs = performance.now() - killedAt;
  for (;;) {
    const now = await Promise.all(stuck.map((s) => store.runSteps.get(s.runId, s.index)));
    if (now.every((s) => s && (s.attempts > 1 || s.status === 'completed'))) break;
    await new Promise((r) => setTimeout(r, 5));
  }
  const resumeMs = performance.now() - killedAt;
  await waitAll(store, batch);
  upstream.options.delayMs = 20;
  await killHard(fresh.child);
  await store.close();
  await database.drop();
  return { runsPerSecond, resumeMs, startMs };
}

const base = await baselineRunsPerSecond(upstream.url, mcp.url, RUNS, CONCURRENCY);
rows.push(['in-process, no store (baseline)', base.toFixed(1), '1.00', '–', '–']);
const engines: Engine[] = process.env.ENCLAVE_TEST_PG_URL ? ['sqlite', 'postgres'] : ['sqlite'];
for (const engine of engines) {
  for (const nodes of [1, 2]) {
    const r = await durable(engine, nodes);
    rows.push([
      `durable, ${engine}, ${nodes} node${nodes > 1 ? 's' : ''}`,
      r.runsPerSecond.toFixed(1),
      (r.runsPerSecond / base).toFixed(2),
      r.resumeMs.toFixed(0),
      r.startMs.toFixed(0),
    ]);
  }
}
console.log(
  `${RUNS} runs, ${CONCURRENCY} concurrent per node, upstream delay 20 ms (200 ms during the kill phase)\n`,
);
console.log('| setup | runs/s | × baseline | resume after kill -9, ms | of which process start, ms |');
console.log('|---|---:|---:|---:|---:|');
for (const r of rows) console.log(`| ${r.join(' | ')} |`);
await mcp.close();
await upstream.close();
process.exit(0);
