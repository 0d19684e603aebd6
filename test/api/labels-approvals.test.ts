import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMcpHttpServer } from '../support/mcp-test-server.js';
import { startMockOpenAI, type MockOpenAI } from '../support/mock-openai.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { auditEntries, classified, statusOf } from './labels-support.js';

const MODEL = 'openai/mock-1';

/**
 * A run parked on an approval holds a tool call's arguments under the run's label (the request's, raised with
 * the turn's high-water mark; migration 0013): reviewers and admins see and decide it only when their clearance
 * reads that label — filtered inside the store's query, as for every labelled object.
 */
describe('approval requests of runs obey mandatory access control', () => {
  let mock: MockOpenAI;
  let server: TestServer;
  let mcp: Awaited<ReturnType<typeof startMcpHttpServer>>;
  const keys: Record<string, string> = {};

  beforeAll(async () => {
    mock = await startMockOpenAI();
    mcp = await startMcpHttpServer();
    server = await startTestServer({
      configFile: {
        models: { endpoints: [{ id: MODEL, baseUrl: mock.url, accreditation: { label: 'SECRET' } }] },
        tools: { mcp_servers: { calc: { url: mcp.url, require_approval: 'always', label: 'UNCLASSIFIED' } } },
      },
    });
    keys.owner = await server.key({ clearance: 'SECRET' });
    keys.lowReviewer = await server.key({ clearance: 'UNCLASSIFIED', role: 'reviewer' });
    keys.lowAdmin = await server.key({ clearance: 'UNCLASSIFIED', role: 'admin' });
    keys.gbrReviewer = await server.key({ clearance: 'TOP SECRET//REL TO USA, GBR', role: 'reviewer' });
    keys.reviewer = await server.key({ clearance: 'SECRET', role: 'reviewer' });
    keys.admin = await server.key({ clearance: 'SECRET', role: 'admin' });
  });
  afterAll(async () => {
    await server.close();
    await mcp.close();
    await mock.close();
  });

  const api = (key: string | undefined, path: string, body?: unknown) =>
    fetch(`${server.baseUrl}/v1${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  const pendingIds = async (key: string | undefined) =>
    ((await (await api(key, '/approvals')).json()) as { data: { id: string; arguments: string }[] }).data;

  it('hides a SECRET run’s pending tool call from lower reviewers and admins, and lets a covering one decide', async () => {
    mock.queue({
      kind: 'tool_calls',
      calls: [{ id: 'c1', name: 'mcp_calc_add', arguments: '{"a":7,"b":35}' }],
    });
    const owner = new OpenAI({ baseURL: `${server.baseUrl}/v1`, apiKey: keys.owner, maxRetries: 0 });
    const parked = await owner.responses.create(
      {
        model: MODEL,
        input: 'add',
        tools: [{ type: 'mcp', server_label: 'calc', require_approval: 'always' }],
      },
      classified('SECRET'),
    );
    expect(parked.status as string).toBe('requires_action');
    const request = (parked.output as unknown as { type: string; id: string }[]).find(
      (o) => o.type === 'mcp_approval_request',
    );
    if (!request) throw new Error('no approval request');

    // Neither a lower reviewer nor a lower admin sees or decides it.
    for (const who of ['lowReviewer', 'lowAdmin']) {
      expect((await pendingIds(keys[who])).map((a) => a.id)).not.toContain(request.id);
      expect((await api(keys[who], `/approvals/${request.id}`, { approve: true })).status).toBe(404);
    }
    const lowAdmin = new OpenAI({ baseURL: `${server.baseUrl}/v1`, apiKey: keys.lowAdmin, maxRetries: 0 });
    expect(await statusOf(lowAdmin.responses.retrieve(parked.id))).toBe(404);
    expect(await auditEntries(server)).toContainEqual(
      expect.objectContaining({ type: 'access.deny', rule: 'mac.no_read_up', objectId: request.id }),
    );

    // The owner and a SECRET reviewer do; so does a TOP SECRET//REL TO USA, GBR reviewer, whose clearance reads
    // a SECRET label (as it reads the stored SECRET response): the run's own label decides, not its creator's.
    expect((await pendingIds(keys.gbrReviewer)).map((a) => a.id)).toContain(request.id);
    expect((await pendingIds(keys.owner)).map((a) => a.id)).toContain(request.id);
    const seen = (await pendingIds(keys.reviewer)).find((a) => a.id === request.id);
    expect(seen?.arguments).toContain('35');
    expect((await api(keys.reviewer, `/approvals/${request.id}`, { approve: true })).status).toBeLessThan(
      300,
    );
    // Let the resumed run finish its next model round before another test queues a reply.
    for (
      let r = await owner.responses.retrieve(parked.id);
      r.status !== 'completed' && r.status !== 'failed';
    ) {
      await new Promise((resolve) => setTimeout(resolve, 25));
      r = await owner.responses.retrieve(parked.id);
    }
  });

  it('raises a run to its conversation’s high-water mark: a lower reader can neither see its approval nor resume its stream', async () => {
    const owner = new OpenAI({ baseURL: `${server.baseUrl}/v1`, apiKey: keys.owner, maxRetries: 0 });
    const conv = await owner.conversations.create(
      { items: [{ type: 'message', role: 'user', content: 'secret context' }] },
      classified('SECRET'),
    );
    mock.queue({
      kind: 'tool_calls',
      calls: [{ id: 'c2', name: 'mcp_calc_add', arguments: '{"a":1,"b":2}' }],
    });
    // The request itself is UNCLASSIFIED; the SECRET history it loads raises the run (and its approval).
    const parked = await owner.responses.create(
      {
        model: MODEL,
        input: 'add',
        conversation: conv.id,
        tools: [{ type: 'mcp', server_label: 'calc', require_approval: 'always' }],
      },
      classified('UNCLASSIFIED'),
    );
    expect(parked.status as string).toBe('requires_action');
    const request = (parked.output as unknown as { type: string; id: string }[]).find(
      (o) => o.type === 'mcp_approval_request',
    );
    if (!request) throw new Error('no approval request');
    const stream = (key: string | undefined) =>
      api(key, `/responses/${parked.id}?stream=true&starting_after=-1`);

    for (const who of ['lowReviewer', 'lowAdmin']) {
      expect((await pendingIds(keys[who])).map((a) => a.id)).not.toContain(request.id);
      expect((await api(keys[who], `/approvals/${request.id}`, { approve: true })).status).toBe(404);
    }
    // An admin may read other principals' runs, but not above its clearance: no stream, no response.
    expect((await stream(keys.lowAdmin)).status).toBe(404);
    expect((await api(keys.lowAdmin, `/responses/${parked.id}`)).status).toBe(404);
    const resumed = await stream(keys.admin);
    expect(resumed.status).toBe(200);
    expect(await resumed.text()).toContain('response.created');
    expect((await pendingIds(keys.reviewer)).map((a) => a.id)).toContain(request.id);
  });
});
