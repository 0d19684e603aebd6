/**
 * Safety-stack latency on a streamed response: the same streamed `POST /v1/responses` (a ~2,000-character answer
 * from the mock OpenAI-compatible upstream, one word per chunk) through two Enclave servers in one run — one with
 * the safety stack on (shipped default policy: input screen, StreamGuard on output, verdicts recorded and audited)
 * and one with `safety.enabled: false` — alternating request by request so both see the same machine.
 * Reports time to the first text delta and to the end of the stream, p50/p99, and the on/off ratios.
 * Run: npx tsx bench/safety-stream.ts [requestsPerServer=200]   (bounded: ~2 × N streamed requests)
 */
import { startMockOpenAI } from '../test/support/mock-openai.js';
import { startTestServer, type TestServer } from '../test/support/server.js';
import { percentile } from './support.js';

const N = Number(process.argv[2] ?? 200);
const MODEL = 'openai/mock-1';
const SENTENCES = [
  'Paris is the capital of France and lies on the river Seine.',
  'The city has about two million inhabitants and many museums.',
  'Its cafes, parks and long boulevards draw visitors all year.',
  'The metro connects most districts within a few minutes.',
  'Bakeries open early, and markets sell fruit, cheese and flowers.',
];
let answer = '';
for (let i = 0; answer.length < 2000; i++) answer += SENTENCES[i % SENTENCES.length] + ' ';

const mock = await startMockOpenAI({ reply: () => ({ kind: 'text', text: answer.trim() }) });
const models = { endpoints: [{ id: MODEL, baseUrl: mock.url, contextWindow: 8000 }] };
const on = await startTestServer({ configFile: { models, safety: {} } });
const off = await startTestServer({ configFile: { models, safety: { enabled: false } } });

interface Sample {
  firstDelta: number;
  total: number;
  ok: boolean;
}

async function stream(server: TestServer, key: string): Promise<Sample> {
  const start = performance.now();
  const res = await fetch(`${server.baseUrl}/v1/responses`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify({ model: MODEL, input: 'Tell me about Paris.', stream: true }),
  });
  let firstDelta = NaN;
  let body = '';
  const decoder = new TextDecoder();
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    body += decoder.decode(chunk, { stream: true });
    if (Number.isNaN(firstDelta) && body.includes('response.output_text.delta'))
      firstDelta = performance.now() - start;
  }
  return { firstDelta, total: performance.now() - start, ok: res.ok && body.includes('response.completed') };
}

const keys = new Map([
  [on, await on.key()],
  [off, await off.key()],
]);
const samples = new Map<TestServer, Sample[]>([
  [on, []],
  [off, []],
]);
for (let i = 0; i < 20; i++) for (const s of [on, off]) await stream(s, keys.get(s)!); // warm-up
for (let i = 0; i < N; i++)
  for (const s of i % 2 ? [on, off] : [off, on]) samples.get(s)!.push(await stream(s, keys.get(s)!));

const row = (name: string, s: Sample[]) => ({
  name,
  ttft50: percentile(
    s.map((x) => x.firstDelta),
    50,
  ),
  ttft99: percentile(
    s.map((x) => x.firstDelta),
    99,
  ),
  total50: percentile(
    s.map((x) => x.total),
    50,
  ),
  total99: percentile(
    s.map((x) => x.total),
    99,
  ),
  errors: s.filter((x) => !x.ok).length,
});
const offRow = row('safety off (`safety.enabled: false`, baseline)', samples.get(off)!);
const onRow = row('safety on (default policy)', samples.get(on)!);
console.log(`${N} streamed responses per server, ${answer.length}-character answer, alternating\n`);
console.log('| server | first delta p50 ms | p99 ms | whole stream p50 ms | p99 ms | errors |');
console.log('|---|---:|---:|---:|---:|---:|');
for (const r of [offRow, onRow])
  console.log(
    `| ${r.name} | ${r.ttft50.toFixed(1)} | ${r.ttft99.toFixed(1)} | ${r.total50.toFixed(1)} | ${r.total99.toFixed(1)} | ${r.errors} |`,
  );
console.log(
  `\nratios on/off: first delta p50 ${(onRow.ttft50 / offRow.ttft50).toFixed(2)}×, whole stream p50 ` +
    `${(onRow.total50 / offRow.total50).toFixed(2)}× (+${(onRow.total50 - offRow.total50).toFixed(1)} ms)`,
);
await on.close();
await off.close();
await mock.close();
