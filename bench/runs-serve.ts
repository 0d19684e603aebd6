/**
 * Durable runs through the product path: background responses (`POST /v1/responses`, `background: true`) on
 * `enclave serve` processes — each run a model call that asks for an MCP tool, the tool call over streamable
 * HTTP, and a second model call, with the safety stack (monitor policy), audit and labels on — with one and two
 * nodes; then kill -9 of every node mid-batch and the time a fresh `enclave serve` takes to resume the runs.
 * Baseline, same run: the same work in-process with no store (bench/runs-baseline.ts).
 *   npx tsx bench/runs-serve.ts                                   # SQLite (two nodes share one file)
 *   bash scripts/with-postgres.sh npx tsx bench/runs-serve.ts     # also PostgreSQL
 * Bounded: about a minute per engine.
 */
import type { ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sqliteKeyFor } from '../src/crypto/sqlite-key.js';
import { categories } from '../src/safety/index.js';
import { openStore } from '../src/store/open-store.js';
import { runCli, spawnServer } from '../test/support/cli.js';
import { startMcpHttpServer } from '../test/support/mcp-test-server.js';
import { startMockOpenAI, type MockReply } from '../test/support/mock-openai.js';
import { killHard } from '../test/support/run-workers.js';
import { createTestDatabase, type Engine } from '../test/support/stores.js';
import { baselineRunsPerSecond } from './runs-baseline.js';

const RUNS = 60;
const CONCURRENCY = 8;
const MODEL = 'openai/mock-1';
const upstream = await startMockOpenAI({ delayMs: 20 });
const mcp = await startMcpHttpServer();

// Round 1 asks for the tool with the number in the user's message; round 2 answers with its result.
const toolThenAnswer = (body: { messages: { role: string; content?: unknown }[] }): MockReply => {
  const tool = body.messages.find((m) => m.role === 'tool');
  if (tool) return { kind: 'text', text: `sum is ${String(tool.content)}` };
  const user = body.messages.find((m) => m.role === 'user');
  const n = Number(/add (\d+)/.exec(String(user?.content))?.[1] ?? 0);
  return {
    kind: 'tool_calls',
    calls: [{ id: `call_${n}`, name: 'mcp_calc_add', arguments: JSON.stringify({ a: n, b: 1000 }) }],
  };
};

/** Polls the responses through the API (the bench keeps no store connection open beside the servers). */
// A failed run must not leave serve processes behind.
const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
});

const waitAll = async (url: string, key: string, ids: string[]) => {
  for (;;) {
    const responses = await Promise.all(
      ids.map((id) =>
        fetch(`${url}/v1/responses/${id}`, { headers: { authorization: `Bearer ${key}` } }).then(
          (r) => r.json() as Promise<{ id: string; status: string; error?: unknown }>,
        ),
      ),
    );
    if (responses.every((r) => r.status === 'completed')) return;
    const failed = responses.find((r) => r.status === 'failed' || r.status === 'cancelled');
    if (failed) throw new Error(`a run failed: ${JSON.stringify(failed)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
};

/** Upstream requests plus MCP deliveries made for run `n` so far: it moves when this grows. */
const progress = (n: number, runId: string) =>
  upstream.received.filter((r) => JSON.stringify(r.body).includes(`add ${n}"`)).length +
  mcp.deliveries.filter((d) => d.key.startsWith(`${runId}:`)).length;

async function served(engine: Engine, nodes: number) {
  const database = await createTestDatabase(engine);
  const env = {
    ENCLAVE_DATA_DIR: database.dataDir,
    ...(database.databaseUrl ? { DATABASE_URL: database.databaseUrl } : {}),
    ENCLAVE_RUN_CONCURRENCY: String(CONCURRENCY),
    ENCLAVE_LOG_LEVEL: 'error',
  };
  writeFileSync(
    join(database.dataDir, 'config.json'),
    JSON.stringify({
      models: { endpoints: [{ id: MODEL, baseUrl: upstream.url, contextWindow: 8000 }] },
      tools: { mcp_servers: { calc: { url: mcp.url, require_approval: 'never' } } },
      safety: {
        policy: {
          version: 'bench-monitor/1',
          rules: Object.fromEntries(categories.map((c) => [c, { threshold: 0.5, action: 'flag' }])),
        },
      },
    }),
  );
  const key = (
    await runCli(['keys', 'create', '--tenant', 'bench', '--name', 'bench'], { env })
  ).stdout.trim();
  const servers = Array.from({ length: nodes }, () => spawnServer([], env));
  for (const s of servers) children.add(s.child);
  const urls = await Promise.all(servers.map((s) => s.ready));
  const submit = async (count: number, from: number) => {
    const ids: { id: string; n: number }[] = [];
    for (let i = 0; i < count; i++) {
      const res = await fetch(`${urls[i % urls.length]!}/v1/responses`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          model: MODEL,
          input: `add ${from + i}`,
          background: true,
          tools: [{ type: 'mcp', server_label: 'calc', require_approval: 'never' }],
        }),
      });
      const body = (await res.json()) as { id: string; status: string };
      if (body.status !== 'queued')
        throw new Error(`submit: ${JSON.stringify(body)}\n${servers.map((s) => s.stderr()).join('\n')}`);
      ids.push({ id: body.id, n: from + i });
    }
    return ids;
  };

  // Throughput: submission included (it is part of serving a background response).
  const start = performance.now();
  const first = await submit(RUNS, 0);
  await waitAll(
    urls[0]!,
    key,
    first.map((r) => r.id),
  );
  const runsPerSecond = RUNS / ((performance.now() - start) / 1000);

  // Resume: kill -9 every node mid-batch (some runs done, some in flight), start one fresh node, time until
  // every run in flight at the kill moves again (a new upstream request or MCP delivery for it).
  upstream.options.delayMs = 200;
  const batch = await submit(2 * CONCURRENCY, 1000);
  await new Promise((r) => setTimeout(r, 700));
  await Promise.all(servers.map((s) => killHard(s.child)));
  const killedAt = performance.now();
  // Read the state at the kill with the servers dead (SQLite: the whole file is encrypted, key in the data dir).
  const sqliteKey = database.databaseUrl ? undefined : await sqliteKeyFor(database.dataDir);
  const store = await openStore({ databaseUrl: database.databaseUrl, dataDir: database.dataDir, sqliteKey });
  const open = [];
  // In flight = a worker had it (queued runs wait for a free slot anyway, restart or not).
  for (const r of batch) if ((await store.runs.byId(r.id))?.status === 'in_progress') open.push(r);
  await store.close();
  const before = new Map(open.map((r) => [r.id, progress(r.n, r.id)]));
  const lookupMs = performance.now() - killedAt;
  const fresh = spawnServer([], env);
  children.add(fresh.child);
  const url = await fresh.ready;
  const startMs = performance.now() - killedAt;
  // Moved = a new upstream request or MCP delivery, or finished (a run whose turn was already stored when the
  // node died only needs its final transition).
  const moved = new Set<string>();
  while (moved.size < open.length) {
    for (const r of open) if (progress(r.n, r.id) > before.get(r.id)!) moved.add(r.id);
    for (const r of open.filter((o) => !moved.has(o.id))) {
      const res = await fetch(`${url}/v1/responses/${r.id}`, { headers: { authorization: `Bearer ${key}` } });
      if (((await res.json()) as { status: string }).status === 'completed') moved.add(r.id);
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  const resumeMs = performance.now() - killedAt - lookupMs;
  await waitAll(
    url,
    key,
    batch.map((r) => r.id),
  );
  upstream.options.delayMs = 20;
  fresh.child.kill('SIGTERM');
  await fresh.exited;
  await database.drop();
  return { runsPerSecond, resumeMs, startMs: startMs - lookupMs, inFlight: open.length };
}

const base = await baselineRunsPerSecond(upstream.url, mcp.url, RUNS, CONCURRENCY);
upstream.options.reply = toolThenAnswer;
const rows: string[][] = [['in-process, no store (baseline)', base.toFixed(1), '1.00', '–', '–']];
const engines: Engine[] = process.env.ENCLAVE_TEST_PG_URL ? ['sqlite', 'postgres'] : ['sqlite'];
for (const engine of engines) {
  // Two serve processes on one SQLite file are not a supported deployment (many nodes need PostgreSQL):
  // under this load their writers collide (SQLITE_BUSY_SNAPSHOT → 500 on submit).
  for (const nodes of engine === 'postgres' ? [1, 2] : [1]) {
    const r = await served(engine, nodes);
    rows.push([
      `enclave serve, ${engine}, ${nodes} node${nodes > 1 ? 's' : ''}`,
      r.runsPerSecond.toFixed(1),
      (r.runsPerSecond / base).toFixed(2),
      r.resumeMs.toFixed(0),
      r.startMs.toFixed(0),
    ]);
  }
}
console.log(
  `${RUNS} background responses, ${CONCURRENCY} concurrent per node, upstream delay 20 ms (200 ms during the kill phase)\n`,
);
console.log('| setup | runs/s | × baseline | resume after kill -9, ms | of which process start, ms |');
console.log('|---|---:|---:|---:|---:|');
for (const r of rows) console.log(`| ${r.join(' | ')} |`);
await mcp.close();
await upstream.close();
process.exit(0);
