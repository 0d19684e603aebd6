import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMcpHttpServer } from '../support/mcp-test-server.js';
import { startMockOpenAI, type MockOpenAI } from '../support/mock-openai.js';
import { startTestServer, type TestServer } from '../support/server.js';

const MODEL = 'openai/mock-1';
type Output = { type: string; id: string; [k: string]: unknown }[];
interface Logged {
  type: string;
  objectId?: string;
  detail?: { status?: string; purpose?: string; usage?: unknown };
}

/**
 * One `model.call` audit entry per execution that contacted a model: a durable run re-executed after an
 * approval replays its recorded model calls from the journal and must not record them again; the compaction
 * summary's call is recorded like the turn's own.
 */
describe('model.call audit entries of runs and compaction', () => {
  let mock: MockOpenAI;
  let server: TestServer;
  let client: OpenAI;
  let reviewerKey: string;
  let http: Awaited<ReturnType<typeof startMcpHttpServer>>;

  beforeAll(async () => {
    mock = await startMockOpenAI();
    http = await startMcpHttpServer();
    server = await startTestServer({
      configFile: {
        models: { endpoints: [{ id: MODEL, baseUrl: mock.url, contextWindow: 8000 }] },
        tools: { mcp_servers: { calc: { url: http.url, require_approval: 'never' } } },
      },
    });
    client = new OpenAI({ baseURL: `${server.baseUrl}/v1`, apiKey: await server.key(), maxRetries: 0 });
    reviewerKey = await server.key({ role: 'reviewer' });
  });
  afterAll(async () => {
    await server.close();
    await http.close();
    await mock.close();
  });

  const modelCalls = async (objectId: string) => {
    const head = await server.services.store.audit.head();
    const rows = await server.services.store.audit.entries(0, head.treeSize);
    return rows
      .map((r) => JSON.parse(r.entry) as Logged)
      .filter((e) => e.type === 'model.call' && e.objectId === objectId);
  };
  const waitFor = async (id: string, status: string) => {
    for (;;) {
      const r = await client.responses.retrieve(id);
      if (r.status === status) return r;
      if (['completed', 'failed', 'cancelled'].includes(r.status as string))
        throw new Error(`response ${id} ended ${String(r.status)}, expected ${status}`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  };
  const pendingApproval = async (id: string, seen: Set<string>) => {
    const r = await waitFor(id, 'requires_action');
    const requests = (r.output as unknown as Output).filter((o) => o.type === 'mcp_approval_request');
    const next = requests.find((o) => !seen.has(o.id));
    expect(next).toBeDefined();
    seen.add(next!.id);
    return next!.id;
  };
  const approve = (id: string) =>
    fetch(`${server.baseUrl}/v1/approvals/${id}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${reviewerKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ approve: true }),
    });

  it('records no model call for a re-execution that only replayed its journal', async () => {
    // Round 1 asks for two calls, each behind an approval: the run parks three times over two approvals.
    mock.queue({
      kind: 'tool_calls',
      calls: [
        { id: 'a1', name: 'mcp_calc_add', arguments: '{"a":1,"b":2}' },
        { id: 'a2', name: 'mcp_calc_add', arguments: '{"a":3,"b":4}' },
      ],
    });
    const before = mock.chatRequests().length;
    const created = await client.responses.create({
      model: MODEL,
      input: 'add twice with care',
      background: true,
      tools: [{ type: 'mcp', server_label: 'calc', require_approval: 'always' }],
    });
    const seen = new Set<string>();
    // Execution 1: round 1 reached the model, then parked on the first approval.
    expect((await approve(await pendingApproval(created.id, seen))).status).toBe(200);
    // Execution 2: round 1 replayed from the journal (no model contacted), first call ran, parked again.
    expect((await approve(await pendingApproval(created.id, seen))).status).toBe(200);
    // Execution 3: round 1 replayed, second call ran, round 2 reached the model and answered.
    const done = await waitFor(created.id, 'completed');
    expect((done.output as unknown as Output).filter((o) => o.type === 'mcp_call')).toHaveLength(2);

    const upstreamCalls = mock.chatRequests().length - before;
    expect(upstreamCalls).toBe(2);
    const entries = await modelCalls(created.id);
    // Execution 1's entry (parked, not failed) and execution 3's; execution 2 contacted no model.
    expect(entries.map((e) => e.detail?.status)).toEqual(['suspended', 'stop']);
    expect(entries[1]?.detail?.usage).not.toBeNull();
  });

  it('records the compaction summary call as a model.call with purpose compaction', async () => {
    const conv = await client.conversations.create({});
    const long = 'The reactor coolant pump in bay seven was replaced on Tuesday by the night crew. ';
    for (let i = 0; i < 3; i++)
      await client.responses.create({ model: MODEL, input: `${long} Note ${i}.`, conversation: conv.id });
    const before = mock.chatRequests().length;
    const answer = await client.responses.create({
      model: MODEL,
      input: 'what changed?',
      conversation: conv.id,
      context_management: [{ type: 'compaction', compact_threshold: 50 }],
    });
    expect(answer.status).toBe('completed');
    expect(mock.chatRequests().length - before).toBe(2);
    const entries = await modelCalls(answer.id);
    expect(entries.map((e) => e.detail?.purpose ?? 'answer')).toEqual(['compaction', 'answer']);
    expect(entries.map((e) => e.detail?.status)).toEqual(['stop', 'stop']);
  });

  it('records a background run’s compaction call once, through its journal', async () => {
    const conv = await client.conversations.create({});
    const long = 'The coolant loop of bay nine was flushed and refilled on Monday by the day crew. ';
    for (let i = 0; i < 3; i++)
      await client.responses.create({ model: MODEL, input: `${long} Note ${i}.`, conversation: conv.id });
    const created = await client.responses.create({
      model: MODEL,
      input: 'what changed?',
      conversation: conv.id,
      background: true,
      context_management: [{ type: 'compaction', compact_threshold: 50 }],
    });
    await waitFor(created.id, 'completed');
    const steps = await server.services.store.runSteps.list(created.id);
    expect(steps.map((s) => [s.kind, s.status])).toEqual([
      ['model_call', 'completed'],
      ['model_call', 'completed'],
    ]);
    const entries = await modelCalls(created.id);
    expect(entries.map((e) => e.detail?.purpose ?? 'answer')).toEqual(['compaction', 'answer']);
  });
});
