import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { submitRun } from '../../src/runs/run-commands.js';
import { withConversationWriter } from '../../src/runs/conversation-writer.js';
import { openStore } from '../../src/store/open-store.js';
import type { Store } from '../../src/store/store.js';
import { startMcpHttpServer } from '../support/mcp-test-server.js';
import { startMockOpenAI, type MockOpenAI } from '../support/mock-openai.js';
import { killHard, spawnRunWorker } from '../support/run-workers.js';
import { createTestDatabase, engines, uniqueId, type TestDatabase } from '../support/stores.js';

const RUNS = 20;
const CONCURRENCY = 8;

for (const engine of engines) {
  describe(`durable runs across processes [${engine}]`, () => {
    let database: TestDatabase;
    let store: Store;
    let upstream: MockOpenAI;
    let mcp: Awaited<ReturnType<typeof startMcpHttpServer>>;
    const env = () => ({
      ENCLAVE_DATA_DIR: database.dataDir,
      ...(database.databaseUrl ? { DATABASE_URL: database.databaseUrl } : {}),
      MOCK_OPENAI_URL: upstream.url,
      MCP_URL: mcp.url,
      WORKER_CONCURRENCY: String(CONCURRENCY),
    });

    beforeAll(async () => {
      database = await createTestDatabase(engine);
      store = await openStore({ databaseUrl: database.databaseUrl, dataDir: database.dataDir });
      upstream = await startMockOpenAI({ delayMs: 150 });
      mcp = await startMcpHttpServer();
    });
    afterAll(async () => {
      await mcp.close();
      await upstream.close();
      await store.close();
      await database.drop();
    });

    const submitBatch = async () => {
      const labelId = await store.labels.ensure('UNCLASSIFIED');
      const ids = Array.from({ length: RUNS }, (_, n) => ({ id: uniqueId('resp'), n }));
      for (const { id, n } of ids)
        await submitRun(store, { id, tenantId: 't', kind: 'agent', labelId, input: { principal: 'p', n } });
      return ids;
    };
    const allFinal = async (ids: { id: string }[], timeoutMs = 90_000) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const runs = await Promise.all(ids.map(({ id }) => store.runs.byId(id)));
        if (runs.every((r) => r && ['completed', 'failed', 'cancelled'].includes(r.status))) return runs;
        if (Date.now() > deadline)
          throw new Error(`runs still open: ${runs.filter((r) => r?.status !== 'completed').length}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    const checkConsistent = async (ids: { id: string; n: number }[]) => {
      const runs = await allFinal(ids);
      for (const [i, run] of runs.entries()) {
        expect(run?.status).toBe('completed');
        expect((run?.output as { tool: string }).tool).toBe(String(ids[i]!.n + 1000));
        const steps = await store.runSteps.list(ids[i]!.id);
        expect(steps.map((s) => [s.index, s.kind, s.status])).toEqual([
          [0, 'model_call', 'completed'],
          [1, 'tool_call', 'completed'],
          [2, 'model_call', 'completed'],
        ]);
      }
      // Each tool effect happened exactly once per run (keyed by run id + step index).
      const keys = mcp.ledger
        .filter((e) => ids.some(({ id }) => e.key.startsWith(`${id}:`)))
        .map((e) => e.key);
      expect(keys.sort()).toEqual(ids.map(({ id }) => `${id}:1`).sort());
      return Promise.all(ids.map(({ id }) => store.runSteps.list(id)));
    };

    it('finishes 20 background runs after kill -9 of the worker, repeating no finished step', async () => {
      const first = spawnRunWorker(env());
      await first.ready;
      const ids = await submitBatch();
      // Kill mid-flight: once some runs have finished a step but not all runs are done.
      for (;;) {
        const steps = (await Promise.all(ids.map(({ id }) => store.runSteps.list(id)))).flat();
        if (steps.filter((s) => s.status === 'completed').length >= 6) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      await killHard(first.child);
      const before = (await Promise.all(ids.map(({ id }) => store.runSteps.list(id)))).flat();
      const inFlight = new Set(
        before.filter((s) => s.status === 'started').map((s) => `${s.runId}:${s.index}`),
      );
      const doneAtKill = new Set(
        before.filter((s) => s.status === 'completed').map((s) => `${s.runId}:${s.index}`),
      );
      expect(
        (await Promise.all(ids.map(({ id }) => store.runs.byId(id)))).some((r) => r?.status !== 'completed'),
      ).toBe(true);

      const second = spawnRunWorker(env());
      await second.ready;
      try {
        const steps = (await checkConsistent(ids)).flat();
        for (const s of steps) {
          const key = `${s.runId}:${s.index}`;
          // A step finished before the crash was never run again; only the ones in flight were re-run.
          if (doneAtKill.has(key)) expect(s.attempts).toBe(1);
          if (s.attempts > 1) expect(inFlight.has(key)).toBe(true);
        }
      } finally {
        await killHard(second.child);
      }
    });

    it.runIf(engine === 'postgres')(
      'shares one queue between two processes: each run executes once',
      async () => {
        const a = spawnRunWorker(env());
        const b = spawnRunWorker(env());
        const owners = await Promise.all([a.ready, b.ready]);
        try {
          const ids = await submitBatch();
          const steps = (await checkConsistent(ids)).flat();
          expect(steps.every((s) => s.attempts === 1)).toBe(true);
          const jobs = await Promise.all(ids.map(({ id }) => store.jobs.byId(id)));
          expect(jobs.every((j) => j?.status === 'done' && j.attempts === 1)).toBe(true);
          expect(owners[0]).not.toBe(owners[1]);
        } finally {
          await Promise.all([killHard(a.child), killHard(b.child)]);
        }
      },
    );

    it.runIf(engine === 'postgres')(
      'serializes concurrent turns on one conversation across connection pools',
      async () => {
        const other = await openStore({ databaseUrl: database.databaseUrl, dataDir: database.dataDir });
        try {
          const conv = uniqueId('conv');
          const log: string[] = [];
          const turn = (s: Store, name: string) =>
            withConversationWriter(s, conv, name, async (lease) => {
              log.push(`${name}+`);
              await new Promise((r) => setTimeout(r, 30));
              await s.transaction((tx) => tx.conversationLeases.assertFence(conv, lease.token));
              log.push(`${name}-`);
            });
          await Promise.all([turn(store, 'a'), turn(other, 'b'), turn(store, 'c'), turn(other, 'd')]);
          for (let i = 0; i < log.length; i += 2) expect(log[i]!.slice(0, -1)).toBe(log[i + 1]!.slice(0, -1));
        } finally {
          await other.close();
        }
      },
    );
  });
}
