/**
 * A/B of a stored chained turn (POST /v1/responses with previous_response_id, SQLite, `enclave serve`'s defaults)
 * between this tree and another checkout of Enclave (e.g. `git archive HEAD | tar -x -C /tmp/base`, its
 * node_modules symlinked), interleaved request by request in one process against one mock upstream, so load
 * swings hit both sides alike; the upstream called directly is the third column.
 * Run: npx tsx bench/responses-ab.ts <otherTreeRoot> [seconds=10]
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { startMockOpenAI } from '../test/support/mock-openai.js';
import * as here from '../test/support/server.js';
import { percentile } from './support.js';

const otherRoot = process.argv[2];
if (!otherRoot) throw new Error('usage: npx tsx bench/responses-ab.ts <otherTreeRoot> [seconds]');
const seconds = Number(process.argv[3] ?? 10);
const CHAIN = 10;
const MODEL = 'openai/mock-1';
const other = (await import(pathToFileURL(resolve(otherRoot, 'test/support/server.ts')).href)) as typeof here;

const mock = await startMockOpenAI();
const config = { configFile: { models: { endpoints: [{ id: MODEL, baseUrl: mock.url }] }, safety: {} } };
const sides = [
  { name: 'this tree', server: await here.startTestServer(config) },
  { name: `other (${otherRoot})`, server: await other.startTestServer(config) },
];

const post = async (url: string, headers: Record<string, string>, body: unknown) => {
  const res = await fetch(url, { method: 'POST', headers, body: JSON.stringify(body) });
  return { ok: res.ok, text: await res.text() };
};
const json = { 'content-type': 'application/json' };
const chainers = await Promise.all(
  sides.map(async ({ server }) => {
    const auth = { ...json, authorization: `Bearer ${await server.key()}` };
    let chain: { id: string; turns: number } | undefined;
    return async (): Promise<void> => {
      const previous = chain && chain.turns < CHAIN ? chain.id : undefined;
      const r = await post(`${server.baseUrl}/v1/responses`, auth, {
        model: MODEL,
        input: 'hello bench world',
        ...(previous ? { previous_response_id: previous } : {}),
      });
      if (!r.ok) throw new Error(`turn failed: ${r.text.slice(0, 200)}`);
      const id = (JSON.parse(r.text) as { id: string }).id;
      chain = { id, turns: previous ? (chain?.turns ?? 0) + 1 : 1 };
    };
  }),
);
const direct = async (): Promise<void> => {
  const r = await post(`${mock.url}/chat/completions`, json, {
    model: 'mock-1',
    messages: [{ role: 'user', content: 'hello bench world' }],
  });
  if (!r.ok) throw new Error('direct call failed');
};
const steps = [...chainers, direct];

for (let i = 0; i < 50; i++) for (const step of steps) await step();
const samples: number[][] = steps.map(() => []);
// CPU time (user + system, all threads) while each request runs: requests go one at a time, so it is that
// request's work (server, client and mock) and much less sensitive to other processes than wall time.
const cpu: number[][] = steps.map(() => []);
const end = performance.now() + seconds * 1000;
for (let round = 0; performance.now() < end; round++) {
  // Rotate who goes first each round so neither side always follows the other.
  for (let k = 0; k < steps.length; k++) {
    const i = (k + round) % steps.length;
    const start = performance.now();
    const used = process.cpuUsage();
    await steps[i]!();
    samples[i]!.push(performance.now() - start);
    const spent = process.cpuUsage(used);
    cpu[i]!.push((spent.user + spent.system) / 1000);
  }
}
const directP50 = percentile(samples[2]!, 50);
const directCpu = percentile(cpu[2]!, 50);
const f = (n: number) => n.toFixed(2);
console.log(
  `${samples[2]!.length} rounds in ${seconds} s; upstream direct p50 ${f(directP50)} ms, CPU ${f(directCpu)} ms\n`,
);
console.log('| tree | p50 ms | p99 ms | added p50 ms | CPU p50 ms | added CPU p50 ms |');
console.log('|---|---:|---:|---:|---:|---:|');
sides.forEach((side, i) => {
  const p50 = percentile(samples[i]!, 50);
  const cpuP50 = percentile(cpu[i]!, 50);
  const cells = [p50, percentile(samples[i]!, 99), p50 - directP50, cpuP50, cpuP50 - directCpu].map(f);
  console.log(`| ${side.name} | ${cells.join(' | ')} |`);
});
for (const { server } of sides) await server.close();
await mock.close();
