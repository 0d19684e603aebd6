import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultPolicy } from '../../src/safety/index.js';
import { startMcpHttpServer } from '../support/mcp-test-server.js';
import { startMockOpenAI, type MockOpenAI } from '../support/mock-openai.js';
import { rawSql, type RawSql } from '../support/raw-content.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { engines } from '../support/stores.js';
import { classified } from './labels-support.js';

const MODEL = 'openai/mock-secret';
const CODE_WORD = 'PELICAN';
const search = { name: 'memory', arguments: '{"action":"search","query":"launch code word"}' };

/**
 * The memory tool's recall raises a run mid-turn. The tool's own `tool_call` step holds the recalled text, so it
 * completes under the recalled records' label (re-sealed), with the run raised in the same transaction: the model
 * round after it, an MCP approval it leads to and the stream events all carry the raised label, and a reader
 * cleared only for the label the run started at gets none of it through any run, approval or event read.
 */
for (const engine of engines) {
  describe(`the memory tool's step is labelled with what it recalled [${engine}]`, () => {
    let mock: MockOpenAI;
    let mcp: Awaited<ReturnType<typeof startMcpHttpServer>>;
    let server: TestServer;
    let sql: RawSql;
    const keys: Record<string, string> = {};
    let secretId: string;

    const api = (key: string | undefined, path: string, body?: unknown) =>
      fetch(`${server.baseUrl}/v1${path}`, {
        method: body === undefined ? 'GET' : 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    const owner = () => new OpenAI({ baseURL: `${server.baseUrl}/v1`, apiKey: keys.owner, maxRetries: 0 });
    const pending = async (key: string | undefined) =>
      ((await (await api(key, '/approvals')).json()) as { data: { id: string; arguments: string }[] }).data;

    /** What an UNCLASSIFIED reader (reviewer or admin of the tenant) gets of the run: nothing at all. */
    async function lowReadersSeeNothing(id: string): Promise<void> {
      for (const who of ['lowReviewer', 'lowAdmin']) {
        const reads = await Promise.all([
          api(keys[who], `/responses/${id}`),
          api(keys[who], `/responses/${id}?stream=true&starting_after=-1`),
          api(keys[who], `/responses/${id}/input_items`),
        ]);
        expect(
          reads.map((r) => r.status),
          who,
        ).toEqual([404, 404, 404]);
        expect(JSON.stringify(await pending(keys[who]))).not.toContain(CODE_WORD);
        expect(JSON.stringify(await pending(keys[who]))).not.toContain(id);
      }
    }

    /** Every step and event of the run that holds the code word is labelled SECRET; returns the memory step. */
    async function everyRowDominatesItsContent(id: string) {
      const steps = await server.services.store.runSteps.list(id);
      const memory = steps.find((s) => s.kind === 'tool_call' && s.name === 'memory');
      expect(JSON.stringify(memory?.output)).toContain(CODE_WORD);
      for (const s of steps) {
        if (JSON.stringify(s).includes(CODE_WORD))
          expect(s.labelId, `step ${s.index} ${s.name}`).toBe(secretId);
      }
      // Everything from the memory step on was written after the recall.
      for (const s of steps.filter((s) => s.index >= memory!.index)) expect(s.labelId).toBe(secretId);
      for (const e of await server.services.store.runs.events(id, -1)) {
        if (JSON.stringify(e.data).includes(CODE_WORD)) expect(e.labelId, `event ${e.seq}`).toBe(secretId);
      }
      // The stored row itself, read past the store's code.
      const [row] = await sql.rows(`SELECT label_id FROM run_steps WHERE run_id = ? AND step_index = ?`, [
        id,
        memory!.index,
      ]);
      expect(row?.label_id).toBe(secretId);
      return memory!;
    }

    beforeAll(async () => {
      mock = await startMockOpenAI();
      mcp = await startMcpHttpServer();
      server = await startTestServer({
        engine,
        configFile: {
          models: { endpoints: [{ id: MODEL, baseUrl: mock.url, accreditation: { label: 'SECRET' } }] },
          memory: { enabled: true, workerIntervalMs: 3_600_000 },
          safety: { policy: defaultPolicy },
          tools: {
            mcp_servers: { calc: { url: mcp.url, require_approval: 'always', label: 'UNCLASSIFIED' } },
          },
        },
        env: { OPENAI_API_KEY: 'test' },
      });
      sql = await rawSql(server.database);
      keys.owner = await server.key({ clearance: 'SECRET' });
      keys.reviewer = await server.key({ clearance: 'SECRET', role: 'reviewer' });
      keys.lowReviewer = await server.key({ clearance: 'UNCLASSIFIED', role: 'reviewer' });
      keys.lowAdmin = await server.key({ clearance: 'UNCLASSIFIED', role: 'admin' });
      secretId = await server.services.store.labels.ensure('SECRET');
      const res = await fetch(`${server.baseUrl}/v1/memories`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${keys.owner}`,
          'content-type': 'application/json',
          'Enclave-Classification': 'SECRET',
        },
        body: JSON.stringify({ text: `The launch code word is ${CODE_WORD}.` }),
      });
      expect(res.status).toBe(201);
    });
    afterAll(async () => {
      await sql?.close();
      await server?.close();
      await mcp?.close();
      await mock?.close();
    });

    it('an UNCLASSIFIED turn that recalls a SECRET memory: the step row is SECRET, lower readers get nothing', async () => {
      // The SECRET conversation is the recall's ceiling; the turn itself starts at the request's UNCLASSIFIED.
      const conv = await owner().conversations.create({}, classified('SECRET'));
      mock.queue({ kind: 'tool_calls', calls: [{ id: 'call_m1', ...search }] });
      mock.queue({ kind: 'text', text: `The code word is ${CODE_WORD}.` });
      const r = await owner().responses.create(
        { model: MODEL, input: 'Hello there.', conversation: conv.id },
        classified('UNCLASSIFIED'),
      );
      expect(r.status).toBe('completed');
      expect((r as unknown as { label: string }).label).toBe('SECRET');
      const memory = await everyRowDominatesItsContent(r.id);
      // The steps before the recall kept the label the run had then (they hold nothing recalled).
      const before = (await server.services.store.runSteps.list(r.id)).filter((s) => s.index < memory.index);
      expect(before.length).toBeGreaterThan(0);
      for (const s of before) expect(s.labelId).not.toBe(secretId);
      await lowReadersSeeNothing(r.id);
    });

    it('a turn raised at prepare (automatic recall): its first model call is labelled with the raised label', async () => {
      // The question itself recalls the SECRET record into the context before the model is opened.
      const conv = await owner().conversations.create({}, classified('SECRET'));
      mock.queue({ kind: 'text', text: `The code word is ${CODE_WORD}.` });
      const r = await owner().responses.create(
        { model: MODEL, input: 'What is the launch code word?', conversation: conv.id },
        classified('UNCLASSIFIED'),
      );
      expect(r.status).toBe('completed');
      expect((r as unknown as { label: string }).label).toBe('SECRET');
      const steps = await server.services.store.runSteps.list(r.id);
      const call = steps.find((s) => s.kind === 'model_call');
      expect(JSON.stringify(call?.output)).toContain(CODE_WORD);
      for (const s of steps) expect(s.labelId, `step ${s.index} ${s.name}`).toBe(secretId);
      for (const e of await server.services.store.runs.events(r.id, -1)) {
        if (JSON.stringify(e.data).includes(CODE_WORD)) expect(e.labelId, `event ${e.seq}`).toBe(secretId);
      }
      await lowReadersSeeNothing(r.id);
    });

    it('an MCP call the model makes with the recalled text waits for a reviewer cleared for it', async () => {
      const conv = await owner().conversations.create({}, classified('SECRET'));
      mock.queue({ kind: 'tool_calls', calls: [{ id: 'call_m2', ...search }] });
      mock.queue({
        kind: 'tool_calls',
        calls: [{ id: 'call_d1', name: 'mcp_calc_delete_record', arguments: `{"id":"${CODE_WORD}"}` }],
      });
      mock.queue({ kind: 'text', text: 'Done.' });
      const parked = await owner().responses.create(
        {
          model: MODEL,
          input: 'Please tidy up.',
          conversation: conv.id,
          tools: [{ type: 'mcp', server_label: 'calc', require_approval: 'always' }],
        },
        classified('UNCLASSIFIED'),
      );
      expect(parked.status as string).toBe('requires_action');
      const steps = await server.services.store.runSteps.list(parked.id);
      const wait = steps.find((s) => s.kind === 'approval_wait');
      expect(wait?.labelId).toBe(secretId);
      const request = await server.services.store.approvals.forStep(parked.id, wait!.index);
      expect(request?.arguments).toContain(CODE_WORD);
      expect(request?.labelId).toBe(secretId);
      await everyRowDominatesItsContent(parked.id);
      await lowReadersSeeNothing(parked.id);
      expect((await api(keys.lowReviewer, `/approvals/${request!.id}`, { approve: true })).status).toBe(404);

      // A SECRET reviewer sees the call and lets the run finish; the finished run still shows nothing lower.
      expect((await pending(keys.reviewer)).map((a) => a.id)).toContain(request!.id);
      expect((await api(keys.reviewer, `/approvals/${request!.id}`, { approve: true })).status).toBeLessThan(
        300,
      );
      let r = await owner().responses.retrieve(parked.id);
      for (let i = 0; i < 400 && r.status !== 'completed' && r.status !== 'failed'; i++) {
        await new Promise((resolve) => setTimeout(resolve, 25));
        r = await owner().responses.retrieve(parked.id);
      }
      expect(r.status).toBe('completed');
      await everyRowDominatesItsContent(parked.id);
      await lowReadersSeeNothing(parked.id);
    });
  });
}
