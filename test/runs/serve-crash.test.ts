import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sqliteKeyFor } from '../../src/crypto/sqlite-key.js';
import { categories } from '../../src/safety/index.js';
import { openStore } from '../../src/store/open-store.js';
import { runCli, spawnServer } from '../support/cli.js';
import { startMcpHttpServer } from '../support/mcp-test-server.js';
import { startMockOpenAI, type MockOpenAI } from '../support/mock-openai.js';
import { killHard } from '../support/run-workers.js';
import { createTestDatabase, engines, type TestDatabase } from '../support/stores.js';

const MODEL = 'openai/mock-1';
const RUNS = 20;
type Output = { type: string; [k: string]: unknown }[];

/**
 * `enclave serve` as a real process: kill -9 with 20 background responses in flight (each: a model call, an
 * MCP tool call, a second model call, against a slow upstream), restart, and everything finishes once.
 * On PostgreSQL, two serve processes share one queue and serialize turns on one conversation.
 */
for (const engine of engines) {
  describe(`enclave serve with durable runs [${engine}]`, () => {
    let database: TestDatabase;
    let upstream: MockOpenAI;
    let mcp: Awaited<ReturnType<typeof startMcpHttpServer>>;
    let key: string;
    const env = () => ({
      ENCLAVE_DATA_DIR: database.dataDir,
      ...(database.databaseUrl ? { DATABASE_URL: database.databaseUrl } : {}),
      ENCLAVE_RUN_CONCURRENCY: '8',
    });
    const clientOf = (url: string) => new OpenAI({ baseURL: `${url}/v1`, apiKey: key, maxRetries: 0 });

    beforeAll(async () => {
      database = await createTestDatabase(engine);
      // Round 1 asks for the tool with the number in the user's message; round 2 answers with the result.
      upstream = await startMockOpenAI({
        delayMs: 150,
        reply: (body) => {
          const tool = body.messages.find((m) => m.role === 'tool');
          if (tool) return { kind: 'text', text: `sum is ${String(tool.content)}` };
          const user = body.messages.find((m) => m.role === 'user');
          const n = Number(/add (\d+)/.exec(String(user?.content))?.[1] ?? 0);
          return {
            kind: 'tool_calls',
            calls: [{ id: `call_${n}`, name: 'mcp_calc_add', arguments: JSON.stringify({ a: n, b: 1000 }) }],
          };
        },
      });
      mcp = await startMcpHttpServer();
      const config = {
        models: { endpoints: [{ id: MODEL, baseUrl: upstream.url, contextWindow: 8000 }] },
        tools: { mcp_servers: { calc: { url: mcp.url, require_approval: 'never' } } },
        // Monitor mode, as in the in-process API tests: the whole safety path runs, nothing is refused.
        safety: {
          policy: {
            version: 'test-monitor/1',
            rules: Object.fromEntries(categories.map((c) => [c, { threshold: 0.5, action: 'flag' }])),
          },
        },
      };
      writeFileSync(join(database.dataDir, 'config.json'), JSON.stringify(config));
      const created = await runCli(['keys', 'create', '--tenant', 't', '--name', 'runs'], { env: env() });
      expect(created.code).toBe(0);
      key = created.stdout.trim();
    }, 60_000);
    afterAll(async () => {
      await mcp.close();
      await upstream.close();
      await database.drop();
    });

    const submit = async (urls: string[], from: number) => {
      const ids: { id: string; n: number }[] = [];
      for (let i = 0; i < RUNS; i++) {
        const n = from + i;
        const r = await clientOf(urls[i % urls.length]!).responses.create({
          model: MODEL,
          input: `add ${n}`,
          background: true,
          tools: [{ type: 'mcp', server_label: 'calc', require_approval: 'never' }],
        });
        expect(r.status).toBe('queued');
        ids.push({ id: r.id, n });
      }
      return ids;
    };
    const statuses = (client: OpenAI, ids: { id: string }[]) =>
      Promise.all(ids.map(({ id }) => client.responses.retrieve(id).then((r) => r.status as string)));
    const finished = async (client: OpenAI, ids: { id: string }[]) => {
      const deadline = Date.now() + 90_000;
      for (;;) {
        const s = await statuses(client, ids);
        if (s.every((x) => x === 'completed')) return;
        if (s.some((x) => x === 'failed' || x === 'cancelled') || Date.now() > deadline)
          throw new Error(`runs did not all complete: ${s.join(',')}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    const checkHistory = async (client: OpenAI, ids: { id: string; n: number }[]) => {
      for (const { id, n } of ids) {
        const r = await client.responses.retrieve(id);
        const output = r.output as unknown as Output;
        expect(output.map((o) => o.type)).toEqual(['mcp_list_tools', 'mcp_call', 'message']);
        expect(output[1]).toMatchObject({ name: 'add', output: String(n + 1000) });
        expect(r.output_text).toBe(`sum is ${n + 1000}`);
        const inputs = await client.responses.inputItems.list(id);
        expect(inputs.data).toHaveLength(1);
      }
      // Each tool effect happened exactly once per run (the MCP server deduplicates by idempotency key).
      for (const { id } of ids) expect(mcp.ledger.filter((e) => e.key.startsWith(`${id}:`))).toHaveLength(1);
    };
    /** Runs whose tool call was in flight (step started, not completed) at the moment of a kill. */
    const toolsInFlight = async (ids: { id: string }[]) => {
      // SQLite: the serve process encrypts the whole file; its key is wrapped in the data dir.
      const sqliteKey = database.databaseUrl ? undefined : await sqliteKeyFor(database.dataDir);
      const store = await openStore({
        databaseUrl: database.databaseUrl,
        dataDir: database.dataDir,
        sqliteKey,
      });
      try {
        const steps = (await Promise.all(ids.map(({ id }) => store.runSteps.list(id)))).flat();
        return new Set(
          steps.filter((s) => s.kind === 'tool_call' && s.status === 'started').map((s) => s.runId),
        );
      } finally {
        await store.close();
      }
    };

    it('finishes 20 background runs after kill -9 of enclave serve; audit verifies', async () => {
      const first = spawnServer([], env());
      const url = await first.ready;
      const client = clientOf(url);
      const ids = await submit([url], 0);
      // Kill mid-flight: some runs have finished, not all.
      for (;;) {
        const s = await statuses(client, ids);
        if (s.filter((x) => x === 'completed').length >= 3) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      await killHard(first.child);
      const inFlight = await toolsInFlight(ids);
      const second = spawnServer([], env());
      try {
        const again = clientOf(await second.ready);
        const s = await statuses(again, ids);
        expect(s.some((x) => x !== 'completed')).toBe(true);
        await finished(again, ids);
        await checkHistory(again, ids);
        // The tool was delivered once per run, except a call in flight at the kill: re-sent with its key.
        for (const { id } of ids) {
          const delivered = mcp.deliveries.filter((e) => e.key.startsWith(`${id}:`)).length;
          if (inFlight.has(id)) expect(delivered).toBeGreaterThanOrEqual(1);
          else expect(delivered).toBe(1);
        }
      } finally {
        second.child.kill('SIGTERM');
        await second.exited;
      }
      const verify = await runCli(['audit', 'verify'], { env: env() });
      expect(verify.stderr).toBe('');
      expect(verify.code).toBe(0);
    }, 180_000);

    it.runIf(engine === 'postgres')(
      'two serve processes share the queue: each run once; turns on one conversation serialize',
      async () => {
        const a = spawnServer([], env());
        const b = spawnServer([], env());
        const urls = await Promise.all([a.ready, b.ready]);
        const store = await openStore({ databaseUrl: database.databaseUrl, dataDir: database.dataDir });
        try {
          const ids = await submit(urls, 100);
          await finished(clientOf(urls[0]!), ids);
          await checkHistory(clientOf(urls[1]!), ids);
          for (const { id } of ids) {
            const steps = await store.runSteps.list(id);
            expect(steps.every((s) => s.attempts === 1)).toBe(true);
            expect((await store.jobs.byId(id))?.attempts).toBe(1);
            expect(mcp.deliveries.filter((e) => e.key.startsWith(`${id}:`))).toHaveLength(1);
          }

          // Concurrent turns on one conversation through both nodes: each sees all earlier turns.
          delete upstream.options.reply;
          upstream.options.delayMs = 50;
          const conversation = await clientOf(urls[0]!).conversations.create({});
          const turns = await Promise.all(
            ['a', 'b', 'c', 'd'].map((text, i) =>
              clientOf(urls[i % 2]!).responses.create({
                model: MODEL,
                input: text,
                conversation: conversation.id,
              }),
            ),
          );
          expect(turns.every((t) => t.status === 'completed')).toBe(true);
          const items = await clientOf(urls[1]!).conversations.items.list(conversation.id, { order: 'asc' });
          const texts = items.data.map((i) =>
            i.type === 'message' ? (i.content[0] as { text: string }).text : '',
          );
          expect(texts).toHaveLength(8);
          for (let i = 0; i < texts.length; i += 2) expect(texts[i + 1]).toBe(`[mock] ${texts[i]}`);
        } finally {
          await store.close();
          a.child.kill('SIGTERM');
          b.child.kill('SIGTERM');
          await Promise.all([a.exited, b.exited]);
        }
      },
      180_000,
    );
  });
}
