/**
 * OpenAI provider bench: one streamed Chat Completions turn through the old path (the official SDK: fetch +
 * WHATWG streams + its SSE iterator) versus Enclave's ChatClient (undici Pool + Node streams + SseParser),
 * side by side, against the mock upstream running in its own process so CPU time is the client's alone.
 * Calls are sequential (one in flight, like a chained turn) and interleaved in blocks so drift hits both.
 * Run: npx tsx bench/provider-openai.ts [calls=2000] [blocks=10]
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import OpenAI from 'openai';
import { collectTurn } from '../src/providers/collect-turn.js';
import type { ModelRequest } from '../src/providers/model-provider.js';
import { toChatParams } from '../src/providers/openai/map-request.js';
import { OpenAIProvider } from '../src/providers/openai/openai-provider.js';
import { startMockOpenAI } from '../test/support/mock-openai.js';
import { percentile } from './support.js';

if (process.argv[2] === '--mock') {
  const mock = await startMockOpenAI();
  process.stdout.write(`${mock.url}\n`);
  process.stdin.resume();
  process.stdin.on('end', () => void mock.close().then(() => process.exit(0)));
} else {
  await main();
}

async function main(): Promise<void> {
  const calls = Number(process.argv[2] ?? 2000);
  const blocks = Number(process.argv[3] ?? 10);
  const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--mock'], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve) =>
    createInterface({ input: child.stdout }).once('line', resolve),
  );

  const apiKey = 'sk-bench-0123456789';
  const request: ModelRequest = {
    model: 'mock-model',
    instructions: 'You are a careful assistant.',
    items: [
      { type: 'message', role: 'user', text: 'What is the capital of Norway?' },
      { type: 'message', role: 'assistant', text: 'Oslo is the capital of Norway.' },
      { type: 'message', role: 'user', text: 'and how many people live there these days roughly' },
    ],
  };
  const lean = new OpenAIProvider({ endpointId: 'openai/mock', baseURL: url, apiKey });
  // The old provider's transport, as it was: SDK client without retries, iterating the SDK's stream.
  const sdk = new OpenAI({ apiKey, baseURL: url, maxRetries: 0, timeout: 60 * 60 * 1000 });
  const viaSdk = async (): Promise<string> => {
    const params = toChatParams(request, { maxTokensField: 'max_tokens', includeUsage: true });
    const stream = await sdk.chat.completions.create(params, { signal: null });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    return text;
  };
  const viaLean = async (): Promise<string> => (await collectTurn(lean.stream(request))).text;
  const paths = { sdk: viaSdk, lean: viaLean };

  const expected = await viaSdk();
  if ((await viaLean()) !== expected) throw new Error('the two paths answered differently');
  const samples = { sdk: [] as number[], lean: [] as number[] };
  const cpu = { sdk: 0, lean: 0 };
  const run = async (name: keyof typeof paths, n: number, record: boolean) => {
    const send = paths[name];
    const before = process.cpuUsage();
    for (let i = 0; i < n; i++) {
      const start = performance.now();
      await send();
      if (record) samples[name].push(performance.now() - start);
    }
    const used = process.cpuUsage(before);
    if (record) cpu[name] += used.user + used.system;
  };
  await run('sdk', 300, false);
  await run('lean', 300, false);
  const perBlock = Math.max(1, Math.floor(calls / blocks));
  for (let b = 0; b < blocks; b++) {
    const order: (keyof typeof paths)[] = b % 2 === 0 ? ['sdk', 'lean'] : ['lean', 'sdk'];
    for (const name of order) await run(name, perBlock, true);
  }
  child.stdin.end();

  const row = (name: keyof typeof paths) => ({
    p50: percentile(samples[name], 50),
    p99: percentile(samples[name], 99),
    cpuUs: cpu[name] / samples[name].length,
  });
  const a = row('sdk');
  const b = row('lean');
  const f = (n: number) => n.toFixed(3);
  process.stdout.write(
    `provider-openai: ${samples.lean.length} sequential streamed turns per path, mock in its own process\n` +
      `path          p50 ms   p99 ms   CPU µs/call\n` +
      `sdk (old)     ${f(a.p50)}    ${f(a.p99)}    ${a.cpuUs.toFixed(0)}\n` +
      `chat-client   ${f(b.p50)}    ${f(b.p99)}    ${b.cpuUs.toFixed(0)}\n` +
      `ratio lean/sdk: p50 ${(b.p50 / a.p50).toFixed(2)}, CPU ${(b.cpuUs / a.cpuUs).toFixed(2)}\n`,
  );
}
