import { createMcpToolset } from '../src/tools/mcp/mcp-toolset.js';
import { uniqueId } from '../test/support/stores.js';

/**
 * The baseline of the durable-runs benchmarks: the same work as one run (a model call, an MCP tool call over
 * streamable HTTP, a second model call), `concurrency` at a time, in-process with no store, no journal and
 * one reused MCP connection. Returns runs per second.
 */
export async function baselineRunsPerSecond(
  upstreamUrl: string,
  mcpUrl: string,
  runs: number,
  concurrency: number,
): Promise<number> {
  const toolset = createMcpToolset([
    {
      label: 'calc',
      url: mcpUrl,
      command: undefined,
      args: [],
      env: undefined,
      headers: undefined,
      allowedTools: undefined,
      requireApproval: ['never'],
      outputLabel: 'U',
    },
  ]);
  const chat = (text: string) =>
    fetch(`${upstreamUrl}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'mock', messages: [{ role: 'user', content: text }] }),
    }).then((r) => r.json());
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < runs) {
        const n = next++;
        await chat(`plan ${n}`);
        await toolset.call('calc', 'add', JSON.stringify({ a: n, b: 1 }), {
          idempotencyKey: uniqueId('base'),
        });
        await chat(`answer ${n}`);
      }
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  await toolset.close();
  return runs / seconds;
}
