/**
 * Responses bench, out of process (issue 4): Enclave as an operator runs it — `enclave serve` in its own process
 * with its defaults (SQLite in a fresh data dir, at-rest encryption, safety on, durable audit, request logs at
 * `info` appended to a file) — the mock OpenAI-compatible upstream in another process, and this process only the
 * client (node:http keep-alive, the same client for both sides). Closed loops of: the upstream called directly
 * (non-stream and stream), and POST /v1/responses through Enclave non-stream stored, stream stored, and stored
 * chained with previous_response_id (chains restart every 10 turns), interleaved in rounds with the order rotated
 * each round, so load swings on this shared machine hit both sides. Reports per scenario the median of per-round
 * p50s, the pooled p99, req/s, added latency vs direct (median of per-round differences), and CPU ms per request
 * of the server's (Enclave, or the floor server for the floor row) and the mock's processes (/proc/<pid>/stat) and of this client.
 *
 *   npx tsx bench/responses-serve.ts [--rounds 5] [--seconds 2] [--connections 1] [--warmup 1]
 *     [--scenarios direct,direct-stream,nonstream,stream,chained] [--log file|null] [--dist]
 *     [--config audit.durable=false ...] [--env ENCLAVE_LOG_LEVEL=warn ...] [--tree DIR] [--cpu-prof DIR]
 *     [--floor-env FLOOR_FSYNC=0 --floor-env FLOOR_CIPHER=0]   (decompose the floor; see bench/serve/floor-server.ts)
 * `--config k.e.y=value` merges into Enclave's config.json (value as JSON, else a string), `--env K=V` into its
 * environment (e.g. DATABASE_URL=postgres://… for PostgreSQL): variants that decompose the added latency.
 * `--dist` runs `node dist/src/cli/main.js` (run `npm run build` first); default: src/cli/main.ts through tsx.
 * `--tree DIR` benches another checkout's `enclave serve` (e.g. `git archive HEAD | tar -x -C DIR` with its
 * node_modules symlinked): a stable tree while this one is being edited, or the other side of an A/B.
 * `--cpu-prof DIR` writes a V8 CPU profile of the server alone (warm-up included) to DIR when it stops.
 * Bounded: warm-up + rounds × seconds × scenarios (default ~1 min). The old in-process bench is bench/responses.ts.
 */
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import {
  cleanEnv,
  cpuMs,
  enclaveCli,
  repoRoot,
  runEnclave,
  spawnEnclave,
  spawnFloor,
  spawnMock,
  tempDir,
  type CliMode,
} from './serve/children.js';
import { httpClient } from './serve/http-client.js';
import { closedLoop, summarize, type RoundResult } from './serve/rounds.js';

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '5' },
    seconds: { type: 'string', default: '2' },
    connections: { type: 'string', default: '1' },
    warmup: { type: 'string', default: '1' },
    scenarios: { type: 'string', default: 'direct,direct-stream,nonstream,stream,chained' },
    log: { type: 'string', default: 'file' },
    dist: { type: 'boolean', default: false },
    tree: { type: 'string' },
    'cpu-prof': { type: 'string' },
    config: { type: 'string', multiple: true, default: [] },
    env: { type: 'string', multiple: true, default: [] },
    'floor-env': { type: 'string', multiple: true, default: [] },
  },
});
const positive = (name: string, value: string): number => {
  const n = Number(value);
  if (!(n > 0)) throw new Error(`--${name} must be a positive number, got '${value}'`);
  return n;
};
const rounds = Math.round(positive('rounds', args.rounds));
const seconds = positive('seconds', args.seconds);
const connections = Math.round(positive('connections', args.connections));
const warmup = Number(args.warmup);
if (!(warmup >= 0)) throw new Error(`--warmup must be a number of seconds >= 0, got '${args.warmup}'`);
if (args.log !== 'file' && args.log !== 'null') throw new Error(`--log must be 'file' or 'null'`);
const mode: CliMode = args.dist ? 'dist' : 'tsx';
const cli = enclaveCli(resolve(args.tree ?? repoRoot), mode);
const known = ['direct', 'direct-stream', 'nonstream', 'stream', 'chained', 'floor'];
const wanted = new Set(args.scenarios.split(','));
const unknown = [...wanted].filter((k) => !known.includes(k));
if (unknown.length) throw new Error(`--scenarios: unknown ${unknown.join(',')}; known: ${known.join(',')}`);

const CHAIN = 10;
const MODEL = 'openai/mock-1';
const INPUT = 'hello bench world';

/** `a.b.c=value` → sets config.a.b.c (value parsed as JSON when it is JSON, else kept as a string). */
function setPath(target: Record<string, unknown>, assignment: string): void {
  const eq = assignment.indexOf('=');
  if (eq <= 0) throw new Error(`--config wants key.path=value, got '${assignment}'`);
  const keys = assignment.slice(0, eq).split('.');
  const raw = assignment.slice(eq + 1);
  let value: unknown = raw;
  try {
    value = JSON.parse(raw);
  } catch {
    // not JSON: a plain string
  }
  let node = target;
  for (const key of keys.slice(0, -1)) {
    const next = node[key];
    node = (node[key] = typeof next === 'object' && next !== null ? next : {}) as Record<string, unknown>;
  }
  node[keys.at(-1)!] = value;
}
const extraEnv = Object.fromEntries(
  args.env.map((kv) => {
    const eq = kv.indexOf('=');
    if (eq <= 0) throw new Error(`--env wants KEY=value, got '${kv}'`);
    return [kv.slice(0, eq), kv.slice(eq + 1)];
  }),
);

const loadStart = loadavg();
const mock = await spawnMock();
const work = tempDir('enclave-bench-serve-');
const dataDir = join(work, 'data');
const logFile = args.log === 'file' ? join(work, 'enclave.log') : '/dev/null';
// Only the endpoint is configured; everything else is `enclave serve`'s default unless a --config variant says so.
const config: Record<string, unknown> = { models: { endpoints: [{ id: MODEL, baseUrl: mock.url }] } };
for (const assignment of args.config) setPath(config, assignment);
const env = cleanEnv({ ENCLAVE_DATA_DIR: dataDir, ...extraEnv });
mkdirSync(dataDir, { mode: 0o700 });
writeFileSync(join(dataDir, 'config.json'), JSON.stringify(config, null, 2));
// `keys create` makes the database and the data dir's keys (KEK, SQLite key, server secret) as on a first install.
const key = runEnclave(cli, ['keys', 'create', '--tenant', 'bench', '--name', 'bench'], env).trim();
const enclave = await spawnEnclave(
  cli,
  env,
  logFile,
  args['cpu-prof'] ? ['--cpu-prof', '--cpu-prof-dir', resolve(args['cpu-prof'])] : [],
);

const client = httpClient(connections);
const directUrl = new URL(`${mock.url}/chat/completions`);
const responsesUrl = new URL('/v1/responses', enclave.url);
const auth = { authorization: `Bearer ${key}` };
const direct = (stream: boolean) => async () => {
  const r = await client.post(directUrl, {
    model: 'mock-1',
    messages: [{ role: 'user', content: INPUT }],
    stream,
  });
  return r.status === 200 && (!stream || r.text.includes('[DONE]'));
};
// Every request sent to Enclave, warm-up included (what its log file holds).
let enclaveRequests = 0;
const viaEnclave = (stream: boolean) => async () => {
  enclaveRequests++;
  const r = await client.post(responsesUrl, { model: MODEL, input: INPUT, stream }, auth);
  return r.status === 200 && (!stream || r.text.includes('response.completed'));
};
/** Stored turns chained with previous_response_id, restarting every CHAIN turns (per worker, per target). */
const chainedTo = (url: URL, count: () => void) => {
  const chains = new Map<number, { id: string; turns: number }>();
  return async (worker: number): Promise<boolean> => {
    const chain = chains.get(worker);
    const previous = chain && chain.turns < CHAIN ? chain.id : undefined;
    count();
    const body = { model: MODEL, input: INPUT, ...(previous ? { previous_response_id: previous } : {}) };
    const r = await client.post(url, body, auth);
    if (r.status !== 200) return false;
    const turns = previous ? (chain?.turns ?? 0) + 1 : 1;
    chains.set(worker, { id: (JSON.parse(r.text) as { id: string }).id, turns });
    return true;
  };
};
const chained = chainedTo(responsesUrl, () => enclaveRequests++);
// The floor (bench/serve/floor-server.ts): the same chained turn with only the storage guarantee's own work.
const floorEnv = Object.fromEntries(args['floor-env'].map((kv) => kv.split('=', 2) as [string, string]));
const floor = wanted.has('floor') ? await spawnFloor(mock.url, floorEnv) : undefined;
const floorChained = floor ? chainedTo(new URL('/v1/responses', floor.url), () => undefined) : undefined;

interface Scenario {
  key: string;
  name: string;
  send: (worker: number) => Promise<boolean>;
  /** The direct scenario its added latency is measured against. */
  base?: string;
}
const all: Scenario[] = [
  { key: 'direct', name: 'upstream direct, non-stream', send: direct(false) },
  { key: 'direct-stream', name: 'upstream direct, stream', send: direct(true) },
  { key: 'nonstream', name: 'Enclave non-stream, stored', send: viaEnclave(false), base: 'direct' },
  { key: 'stream', name: 'Enclave stream (SSE), stored', send: viaEnclave(true), base: 'direct-stream' },
  { key: 'chained', name: `Enclave stored, chained (≤${CHAIN} turns)`, send: chained, base: 'direct' },
  ...(floorChained
    ? [
        {
          key: 'floor',
          name: `floor: durable encrypted store only, chained`,
          send: floorChained,
          base: 'direct',
        },
      ]
    : []),
];
// A scenario brings its baseline along, so every Enclave row has an added figure.
for (const s of all) if (wanted.has(s.key) && s.base) wanted.add(s.base);
const scenarios = all.filter((s) => wanted.has(s.key));

process.stderr.write(`warming up ${scenarios.length} scenarios (${warmup} s each)\n`);
for (const s of scenarios) await closedLoop(s.send, warmup, connections);
const total = (t: { user: number; system: number }) => t.user + t.system;
const results = new Map<string, RoundResult[]>(scenarios.map((s) => [s.key, []]));
for (let round = 0; round < rounds; round++) {
  process.stderr.write(`round ${round + 1}/${rounds}\n`);
  // Rotate the order so no scenario always runs right after another (e.g. after the one that fills the WAL).
  for (let k = 0; k < scenarios.length; k++) {
    const s = scenarios[(k + round) % scenarios.length]!;
    // The server's CPU: Enclave's, or the floor server's for the floor row.
    const server = s.key === 'floor' && floor ? floor.pid : enclave.pid;
    const before = { enclave: cpuMs(server), mock: cpuMs(mock.pid), client: process.cpuUsage() };
    const loop = await closedLoop(s.send, seconds, connections);
    const client = process.cpuUsage(before.client);
    const enclaveAfter = cpuMs(server);
    results.get(s.key)!.push({
      ...loop,
      cpu: {
        enclave: total(enclaveAfter) - total(before.enclave),
        enclaveSystem: enclaveAfter.system - before.enclave.system,
        mock: total(cpuMs(mock.pid)) - total(before.mock),
        client: (client.user + client.system) / 1000,
      },
    });
  }
}
const loadEnd = loadavg();
const logBytes = args.log === 'file' ? statSync(logFile).size : 0;
const rows = scenarios.map((s) =>
  summarize(s.name, results.get(s.key)!, s.base ? results.get(s.base) : undefined),
);

const f = (n: number | undefined, digits = 2) => (n === undefined ? '–' : n.toFixed(digits));
const logNote =
  args.log === 'file'
    ? `appended to a file (as \`2>>enclave.log\`): ${enclaveRequests ? `${f(logBytes / enclaveRequests, 0)} bytes per request` : 'no Enclave requests'}`
    : 'sent to /dev/null';
const variant = [...args.config, ...args.env, ...args['floor-env'].map((kv) => `floor ${kv}`)];
const load = (l: number[]) => l.map((x) => x.toFixed(2)).join(' ');
console.log(
  [
    `command: npx tsx bench/responses-serve.ts ${process.argv.slice(2).join(' ')}`.trimEnd(),
    `Enclave: \`enclave serve\` in its own process (${cli.describe}), SQLite unless --env DATABASE_URL, fresh data dir`,
    `variant: ${variant.length ? variant.join(', ') : "none (enclave serve's defaults)"}; logs (level ${extraEnv.ENCLAVE_LOG_LEVEL ?? 'info'}) ${logNote}`,
    `mock upstream in its own process; client: node:http keep-alive, ${connections} connection(s) per target`,
    `${rounds} rounds × ${seconds} s per scenario (order rotated per round), ${warmup} s warm-up each`,
    `machine: ${availableParallelism()} CPUs, load average (1/5/15 min) at start ${load(loadStart)}, at end ${load(loadEnd)}`,
    '',
    '| scenario | req/s | p50 ms | p99 ms | added p50 ms | added p99 ms | server CPU ms/req (sys) | mock CPU ms/req | client CPU ms/req | errors |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map(
      (r) =>
        `| ${r.name} | ${f(r.rps, 0)} | ${f(r.p50)} | ${f(r.p99)} | ${f(r.addedP50)} | ${f(r.addedP99)} | ${f(r.cpu.enclave)} (${f(r.cpu.enclaveSystem)}) | ${f(r.cpu.mock, 3)} | ${f(r.cpu.client, 3)} | ${r.errors} |`,
    ),
    '',
    'p50 = median of per-round p50s; p99 pooled over rounds; added p50 = median of per-round (p50 − direct p50).',
    'CPU = utime+stime of the whole process (all threads) over the rounds ÷ requests; small work costs more per',
    'request when requests are sparse (wake-ups, cold caches: compare the client and mock columns across rows).',
    `per-round p50 ms: ${rows.map((r) => `${r.name}: ${r.roundP50s.map((x) => f(x)).join(' ')}`).join('; ')}`,
  ].join('\n'),
);
client.close();
await enclave.stop();
await floor?.stop();
await mock.stop();
// The exit handler (serve/children.ts) removes the temp folder with the data dir and the log.
process.exit(0);
