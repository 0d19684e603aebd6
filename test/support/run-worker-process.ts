// A durable-runs worker node in its own process, for kill -9 tests and the runs benchmark. It opens the
// store (DATABASE_URL, or SQLite in ENCLAVE_DATA_DIR), and executes `agent` runs: a model call to an
// OpenAI-compatible upstream (MOCK_OPENAI_URL, with delays), an MCP tool call (MCP_URL), a second model call.
// Prints `ready <owner>` on stdout once its worker pool runs.
import { openStore } from '../../src/store/open-store.js';
import { createRunService } from '../../src/runs/run-service.js';
import { mcpCallStep } from '../../src/runs/mcp-steps.js';
import { createMcpToolset } from '../../src/tools/mcp/mcp-toolset.js';

const store = await openStore({
  databaseUrl: process.env.DATABASE_URL,
  dataDir: process.env.ENCLAVE_DATA_DIR ?? '.',
});
const upstream = process.env.MOCK_OPENAI_URL ?? '';
const mcpUrl = process.env.MCP_URL ?? '';

const chat = async (text: string, signal: AbortSignal): Promise<string> => {
  const res = await fetch(`${upstream}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer test' },
    body: JSON.stringify({ model: 'mock', messages: [{ role: 'user', content: text }] }),
    signal,
  });
  if (!res.ok) throw new Error(`upstream ${res.status}`);
  const body = (await res.json()) as { choices: { message: { content: string } }[] };
  return body.choices[0]?.message.content ?? '';
};

const service = createRunService({
  store,
  concurrency: Number(process.env.WORKER_CONCURRENCY ?? 8),
  leaseMs: Number(process.env.WORKER_LEASE_MS ?? 5_000),
  pollMs: 25,
  handlers: {
    agent: async (ctx) => {
      const n = (ctx.run.input as { n: number }).n;
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
          outputLabel: 'UNCLASSIFIED',
        },
      ]);
      try {
        const plan = await ctx.step('model_call', 'plan', { n }, (s) => chat(`plan ${n}`, s.signal));
        const call = await mcpCallStep(ctx, toolset, {
          serverLabel: 'calc',
          name: 'add',
          arguments: JSON.stringify({ a: n, b: 1000 }),
          contextLabel: 'UNCLASSIFIED',
          principal: 'bench',
        });
        const answer = await ctx.step('model_call', 'answer', { n }, (s) =>
          chat(`answer ${call.output ?? ''}`, s.signal),
        );
        return { output: { plan, tool: call.output, answer } };
      } finally {
        await toolset.close();
      }
    },
  },
});
await service.start();
process.stdout.write(`ready ${service.pool.owner}\n`);
const shutdown = () =>
  void service
    .stop(1_000)
    .then(() => store.close())
    .then(() => process.exit(0));
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
