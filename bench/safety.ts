// Safety classify throughput and latency, against a baseline run side by side: plain tokenization of the
// same texts (lower-case + word regex), the floor any text classifier pays. Bounded: ~10 s.
// texts/cpu-s divides by this process's CPU time, so it is steadier than texts/s on a shared machine.
// Usage: npx tsx bench/safety.ts
import { createSafetyEngine } from '../src/safety/classifier.js';
import { loadModel } from '../src/safety/model/model-file.js';
import { shippedModelDir } from '../src/safety/safety-config.js';
import { StreamGuard } from '../src/safety/stream-guard.js';
import { buildCorpus } from '../src/safety/training/corpus.js';

const engine = createSafetyEngine({ model: loadModel(shippedModelDir()) });
const words =
  'the quick brown fox explains how to bake bread and schedule a meeting with the team about quarterly revenue numbers while asking the assistant for advice'.split(
    ' ',
  );
const text = (chars: number, seed: number): string => {
  let out = '';
  for (let i = seed; out.length < chars; i = (i * 1103515245 + 12345) % 2147483648)
    out += words[i % words.length] + ' ';
  return out.slice(0, chars);
};

function measure(
  name: string,
  texts: readonly string[],
  fn: (t: string) => unknown,
  seconds = 2,
): { name: string; perSecond: number; perCpuSecond: number; p50: number; p99: number } {
  for (let i = 0; i < 200; i++) fn(texts[i % texts.length] ?? '');
  const times: number[] = [];
  const end = performance.now() + seconds * 1000;
  let n = 0;
  const start = performance.now();
  const cpu0 = process.cpuUsage();
  while (performance.now() < end) {
    const t0 = performance.now();
    fn(texts[n++ % texts.length] ?? '');
    times.push(performance.now() - t0);
  }
  const elapsed = (performance.now() - start) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  times.sort((a, b) => a - b);
  const q = (p: number): number => times[Math.min(times.length - 1, Math.floor(p * times.length))] ?? 0;
  return { name, perSecond: n / elapsed, perCpuSecond: n / cpuSeconds, p50: q(0.5), p99: q(0.99) };
}

const tokenize = (t: string): number => (t.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []).length;
const rows: ReturnType<typeof measure>[] = [];
for (const chars of [100, 1000]) {
  const texts = Array.from({ length: 500 }, (_, i) => text(chars, i + 1));
  rows.push(measure(`tokenize only, ${chars} chars (baseline)`, texts, tokenize));
  rows.push(measure(`classify, ${chars} chars`, texts, (t) => engine.classify(t, { surface: 'input' })));
}
// Real text has a far larger vocabulary than the generator above (≈1,000 distinct features per 1,000 chars,
// 22 % with non-ASCII characters): 1,000-char prefixes of held-out evaluation rows from ../shared/datasets.
const real = buildCorpus({ datasetsRoot: new URL('../../shared/datasets', import.meta.url).pathname })
  .eval.map((r) => r.text)
  .filter((t) => t.length >= 1000)
  .slice(0, 500)
  .map((t) => t.slice(0, 1000));
if (real.length > 0) {
  rows.push(measure('tokenize only, 1000 chars of real text (baseline)', real, tokenize));
  rows.push(
    measure('classify, 1000 chars of real text', real, (t) => engine.classify(t, { surface: 'input' })),
  );
}
// Streaming: a 2,000-character answer in 8-character deltas, with and without the guard.
const answer = text(2000, 7);
const deltas = answer.match(/.{1,8}/gs) ?? [];
rows.push(
  measure(
    'stream 2k chars, no guard (baseline)',
    [answer],
    () => deltas.reduce((acc, d) => acc + d.length, 0),
    1,
  ),
);
rows.push(
  measure(
    'stream 2k chars through StreamGuard',
    [answer],
    () => {
      const guard = new StreamGuard(engine, { surface: 'output' });
      let sent = 0;
      for (const d of deltas) sent += guard.push(d).emit.length;
      return sent + guard.end().emit.length;
    },
    2,
  ),
);

console.log('| measurement | texts/s | texts/cpu-s | p50 ms | p99 ms |\n|---|---:|---:|---:|---:|');
for (const r of rows)
  console.log(
    `| ${r.name} | ${Math.round(r.perSecond)} | ${Math.round(r.perCpuSecond)} | ${r.p50.toFixed(3)} | ${r.p99.toFixed(3)} |`,
  );
