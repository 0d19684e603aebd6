/**
 * Responses bench: POST /v1/responses through Enclave (SQLite, stored) versus the same mock OpenAI-compatible
 * upstream called directly, side by side in one run — non-stream, stream, and a stored turn chained with
 * previous_response_id (each worker restarts its chain every CHAIN turns so history stays bounded).
 * Run: npx tsx bench/responses.ts [secondsPerScenario=5] [connections=4]   (bounded: ~6 scenarios × seconds)
 */
import { startMockOpenAI } from '../test/support/mock-openai.js';
import { startTestServer } from '../test/support/server.js';
import { percentile } from './support.js';

const seconds = Number(process.argv[2] ?? 5);
const connections = Number(process.argv[3] ?? 4);
const CHAIN = 10;
const MODEL = 'openai/mock-1';

interface Result {
  name: string;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
}

/** Closed loop: `connections` workers send back-to-back for `seconds`; latency is until the body is fully read. */
async function run(name: string, send: (worker: number) => Promise<boolean>): Promise<Result> {
  const samples: number[] = [];
  let errors = 0;
  const end = performance.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: connections }, async (_, worker) => {
      while (performance.now() < end) {
        const start = performance.now();
        const ok = await send(worker).catch(() => false);
        samples.push(performance.now() - start);
        if (!ok) errors++;
      }
    }),
  );
  return {
    name,
    rps: samples.length / seconds,
    p50: percentile(samples, 50),
    p99: percentile(samples, 99),
    errors,
  };
}

const mock = await startMockOpenAI();
// `safety: {}` is `enclave serve`'s default (safety on, default policy, audit durable); without it the test server
// would flag every text into the review queue. Memory is off by default, as in `enclave serve`.
const enclave = await startTestServer({
  configFile: { models: { endpoints: [{ id: MODEL, baseUrl: mock.url }] }, safety: {} },
});
const key = await enclave.key();
const json = { 'content-type': 'application/json' };
const auth = { ...json, authorization: `Bearer ${key}` };

const post = async (
  url: string,
  headers: Record<string, string>,
  body: unknown,
): Promise<{ ok: boolean; text: string }> => {
  const res = await fetch(url, { method: 'POST', headers, body: JSON.stringify(body) });
  const text = await res.text();
  return { ok: res.ok, text };
};
const direct = (stream: boolean) => () =>
  post(`${mock.url}/chat/completions`, json, {
    model: 'mock-1',
    messages: [{ role: 'user', content: 'hello bench world' }],
    stream,
  }).then((r) => r.ok);
const viaEnclave = (stream: boolean) => () =>
  post(`${enclave.baseUrl}/v1/responses`, auth, { model: MODEL, input: 'hello bench world', stream }).then(
    (r) => r.ok,
  );
const chains = new Map<number, { id: string; turns: number }>();
const chained = async (worker: number): Promise<boolean> => {
  const chain = chains.get(worker);
  const previous = chain && chain.turns < CHAIN ? chain.id : undefined;
  const r = await post(`${enclave.baseUrl}/v1/responses`, auth, {
    model: MODEL,
    input: 'hello bench world',
    ...(previous ? { previous_response_id: previous } : {}),
  });
  if (!r.ok) return false;
  chains.set(worker, {
    id: (JSON.parse(r.text) as { id: string }).id,
    turns: previous ? (chain?.turns ?? 0) + 1 : 1,
  });
  return true;
};

// Warm-up: JIT, token tables, prepared statements.
for (let i = 0; i < 30; i++) await Promise.all([direct(false)(), viaEnclave(false)(), chained(0)]);
chains.clear();

const pairs: [Result, Result][] = [];
pairs.push([
  await run('upstream direct, non-stream', direct(false)),
  await run('Enclave /v1/responses, non-stream, stored', viaEnclave(false)),
]);
pairs.push([
  await run('upstream direct, stream', direct(true)),
  await run('Enclave /v1/responses, stream (SSE), stored', viaEnclave(true)),
]);
pairs.push([
  await run('upstream direct, non-stream', direct(false)),
  await run(`Enclave stored, chained (previous_response_id, ≤${CHAIN} turns)`, chained),
]);

const f = (n: number) => n.toFixed(2);
console.log(`connections ${connections}, ${seconds} s per row, SQLite, mock upstream on loopback\n`);
console.log('| target | req/s | p50 ms | p99 ms | errors |');
console.log('|---|---:|---:|---:|---:|');
for (const [base, measured] of pairs) {
  for (const r of [base, measured])
    console.log(`| ${r.name} | ${r.rps.toFixed(0)} | ${f(r.p50)} | ${f(r.p99)} | ${r.errors} |`);
}
console.log('\n| scenario | added p50 ms | added p99 ms | req/s ratio (Enclave/direct) |');
console.log('|---|---:|---:|---:|');
for (const [base, measured] of pairs) {
  console.log(
    `| ${measured.name} | ${f(measured.p50 - base.p50)} | ${f(measured.p99 - base.p99)} | ${(measured.rps / base.rps).toFixed(2)} |`,
  );
}
await enclave.close();
await mock.close();
