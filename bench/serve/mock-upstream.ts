/**
 * The mock OpenAI-compatible upstream (test/support/mock-openai.ts) as its own process, for benches that must not
 * share an event loop with it (bench/responses-serve.ts). Prints `mock listening on <url>` on stdout; exits on
 * SIGTERM/SIGINT or when its parent closes stdin (so a parent killed hard does not leave it behind).
 *   node --import tsx bench/serve/mock-upstream.ts
 */
import { startMockOpenAI } from '../../test/support/mock-openai.js';

const mock = await startMockOpenAI();
// The mock keeps every request for tests to assert on; a bench sends hundreds of thousands, so drop them once a
// second to keep its heap (and GC work, which would show up in the direct baseline) flat.
setInterval(() => mock.received.splice(0), 1000).unref();

const stop = (): void => {
  void mock.close().finally(() => process.exit(0));
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
process.stdin.on('end', stop);
process.stdin.resume();
process.stdout.write(`mock listening on ${mock.url}\n`);
