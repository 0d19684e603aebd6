import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mcpTestServerPath, startMcpHttpServer } from '../support/mcp-test-server.js';
import { startMockOpenAI, type MockOpenAI } from '../support/mock-openai.js';
import { startTestServer, type TestServer } from '../support/server.js';

const MODEL = 'openai/mock-1';
type Output = { type: string; id: string; [k: string]: unknown }[];

describe('durable responses through the Responses API (official client)', () => {
  let mock: MockOpenAI;
  let server: TestServer;
  let client: OpenAI;
  let reviewerKey: string;
  let http: Awaited<ReturnType<typeof startMcpHttpServer>>;
  const ledgerFile = join(mkdtempSync(join(tmpdir(), 'enclave-mcp-')), 'ledger.jsonl');
  const stdioLedger = () =>
    existsSync(ledgerFile)
      ? readFileSync(ledgerFile, 'utf8')
          .trim()
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as { key: string; tool: string })
      : [];

  beforeAll(async () => {
    mock = await startMockOpenAI();
    http = await startMcpHttpServer();
    server = await startTestServer({
      configFile: {
        models: { endpoints: [{ id: MODEL, baseUrl: mock.url, contextWindow: 8000 }] },
        tools: {
          mcp_servers: {
            calc: { url: http.url, require_approval: 'never', label: 'UNCLASSIFIED' },
            local: {
              command: process.execPath,
              args: ['--import', 'tsx', mcpTestServerPath],
              env: { MCP_LEDGER: ledgerFile },
              require_approval: { never: { tool_names: ['add'] } },
            },
          },
        },
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

  const poll = async (
    id: string,
    until: (s: string) => boolean = (s) => s !== 'queued' && s !== 'in_progress',
  ) => {
    for (;;) {
      const r = await client.responses.retrieve(id);
      if (until(r.status as string)) return r;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  };
  const runSteps = (id: string) => server.services.store.runSteps.list(id);
  const approve = (id: string, approve: boolean, key = reviewerKey) =>
    fetch(`${server.baseUrl}/v1/approvals/${id}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ approve }),
    });

  it('runs a background response: queued at once, then completed; GET polls it', async () => {
    const created = await client.responses.create({ model: MODEL, input: 'hello later', background: true });
    expect(created.status).toBe('queued');
    expect(created.background).toBe(true);
    const done = await poll(created.id);
    expect(done.status).toBe('completed');
    expect(done.output_text).toBe('[mock] hello later');
    expect(done.background).toBe(true);
    expect((await runSteps(created.id)).map((s) => [s.kind, s.status])).toEqual([
      ['model_call', 'completed'],
    ]);
  });

  it('hands function tools to the client in a background run; the output continues it in another', async () => {
    const tools = [
      {
        type: 'function' as const,
        name: 'weather',
        parameters: { type: 'object', properties: { city: { type: 'string' } } },
        strict: false,
      },
    ];
    mock.queue({
      kind: 'tool_calls',
      calls: [{ id: 'call_bg1', name: 'weather', arguments: '{"city":"Oslo"}' }],
    });
    const created = await client.responses.create({
      model: MODEL,
      input: 'weather?',
      tools,
      background: true,
    });
    const first = await poll(created.id);
    expect(first.status).toBe('completed');
    const call = first.output.find((o) => o.type === 'function_call');
    expect(call).toMatchObject({ name: 'weather', arguments: '{"city":"Oslo"}', call_id: 'call_bg1' });
    const next = await client.responses.create({
      model: MODEL,
      previous_response_id: created.id,
      input: [{ type: 'function_call_output', call_id: 'call_bg1', output: '12 degrees' }],
      tools,
      background: true,
    });
    const done = await poll(next.id);
    expect(done.status).toBe('completed');
    // The model saw its own call and the client's output in the continued run.
    const sent = JSON.stringify(mock.chatRequests().at(-1)?.messages);
    expect(sent).toContain('call_bg1');
    expect(sent).toContain('12 degrees');
  });

  it('refuses background without store (400), as OpenAI does', async () => {
    const error = await client.responses
      .create({ model: MODEL, input: 'x', background: true, store: false })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 400 });
  });

  it('resumes a stream after sequence number N: stored events, then live ones', async () => {
    mock.options.chunkDelayMs = 30;
    try {
      const created = await client.responses.create({
        model: MODEL,
        input: 'one two three four five six',
        background: true,
      });
      const full: { type: string; sequence_number: number }[] = [];
      for await (const e of await client.responses.retrieve(created.id, { stream: true })) full.push(e);
      expect(full.at(-1)?.type).toBe('response.completed');
      expect(full.map((e) => e.sequence_number)).toEqual(full.map((_, i) => i));
      const resumed: { type: string; sequence_number: number }[] = [];
      for await (const e of await client.responses.retrieve(created.id, { stream: true, starting_after: 4 }))
        resumed.push(e);
      expect(resumed).toEqual(full.slice(5));
    } finally {
      mock.options.chunkDelayMs = 0;
    }
  });

  it('cancels while the model call is running: the upstream request is aborted', async () => {
    mock.queue({ kind: 'hang' });
    const before = mock.received.length;
    const created = await client.responses.create({
      model: MODEL,
      input: 'never answered',
      background: true,
    });
    while (mock.received.length === before) await new Promise((r) => setTimeout(r, 10));
    const cancelled = await client.responses.cancel(created.id);
    expect(cancelled.status).toBe('cancelled');
    expect((await client.responses.retrieve(created.id)).status).toBe('cancelled');
    await expect.poll(() => mock.received[before]?.closedEarly).toBe(true);
  });

  it('cancels while an MCP tool call is running: the call is aborted, its step never completes', async () => {
    mock.queue({
      kind: 'tool_calls',
      calls: [{ id: 'c1', name: 'mcp_calc_sleep', arguments: '{"ms":60000}' }],
    });
    const created = await client.responses.create({
      model: MODEL,
      input: 'take a nap',
      background: true,
      tools: [{ type: 'mcp', server_label: 'calc', require_approval: 'never' }],
    });
    await expect
      .poll(async () => (await runSteps(created.id)).some((s) => s.name === 'mcp:calc.sleep'), {
        timeout: 10_000,
      })
      .toBe(true);
    const cancelled = await client.responses.cancel(created.id);
    expect(cancelled.status).toBe('cancelled');
    // The call was aborted (the server's sleep ended early) and its step never completed: not a result.
    const step = (await runSteps(created.id)).find((s) => s.name === 'mcp:calc.sleep');
    expect(step?.status).not.toBe('completed');
    expect((await client.responses.retrieve(created.id)).status).toBe('cancelled');
  });

  it('answers 409 to a cancel of a finished response', async () => {
    const created = await client.responses.create({ model: MODEL, input: 'quick', background: true });
    await poll(created.id);
    const error = await client.responses.cancel(created.id).catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 409 });
  });

  it('runs MCP tools over HTTP without approval: mcp_list_tools, mcp_call, then the answer', async () => {
    mock.queue({
      kind: 'tool_calls',
      calls: [{ id: 'c2', name: 'mcp_calc_add', arguments: '{"a":2,"b":40}' }],
    });
    const r = await client.responses.create({
      model: MODEL,
      input: 'add please',
      tools: [{ type: 'mcp', server_label: 'calc', require_approval: 'never' }],
    });
    expect(r.status).toBe('completed');
    const output = r.output as unknown as Output;
    expect(output.map((o) => o.type)).toEqual(['mcp_list_tools', 'mcp_call', 'message']);
    expect(output[1]).toMatchObject({
      name: 'add',
      output: '42',
      server_label: 'calc',
      label: 'UNCLASSIFIED',
    });
    expect(r.output_text).toBe('[mock] add please');
    // The model saw the tool's result in its second round.
    const last = mock.chatRequests().at(-1);
    expect(JSON.stringify(last?.messages)).toContain('"42"');
    expect((await client.responses.retrieve(r.id)).output.map((o) => o.type)).toEqual(
      output.map((o) => o.type),
    );
  });

  it('parks an MCP call over stdio on approval; the client approves with mcp_approval_response', async () => {
    mock.queue({
      kind: 'tool_calls',
      calls: [{ id: 'c3', name: 'mcp_local_delete_record', arguments: '{"id":"r-7"}' }],
    });
    const tools = [{ type: 'mcp' as const, server_label: 'local' }];
    const parked = await client.responses.create({ model: MODEL, input: 'delete r-7', tools });
    expect(parked.status as string).toBe('requires_action');
    const request = (parked.output as unknown as Output).find((o) => o.type === 'mcp_approval_request');
    expect(request).toMatchObject({
      name: 'delete_record',
      server_label: 'local',
      arguments: '{"id":"r-7"}',
    });
    expect(stdioLedger().filter((e) => e.tool === 'delete_record')).toEqual([]);

    const done = await client.responses.create({
      model: MODEL,
      previous_response_id: parked.id,
      input: [{ type: 'mcp_approval_response', approval_request_id: request!.id, approve: true }],
      tools,
    });
    expect(done.id).toBe(parked.id);
    expect(done.status).toBe('completed');
    const output = done.output as unknown as Output;
    expect(output.map((o) => o.type)).toEqual([
      'mcp_list_tools',
      'mcp_approval_request',
      'mcp_call',
      'message',
    ]);
    expect(output[2]).toMatchObject({ output: 'deleted r-7', approval_request_id: request!.id });
    expect(stdioLedger().filter((e) => e.tool === 'delete_record')).toHaveLength(1);
  });

  it('parks a streamed MCP call on approval (response.requires_action); the answer streams the continuation', async () => {
    mock.queue({
      kind: 'tool_calls',
      calls: [{ id: 'c5', name: 'mcp_calc_add', arguments: '{"a":20,"b":22}' }],
    });
    const tools = [{ type: 'mcp' as const, server_label: 'calc', require_approval: 'always' as const }];
    const before = http.ledger.length;
    const first: { type: string; sequence_number: number; item?: { type: string; id: string } }[] = [];
    const stream = await client.responses.create({
      model: MODEL,
      input: 'add on a stream',
      tools,
      stream: true,
    });
    for await (const e of stream) first.push(e as (typeof first)[number]);
    expect(first.at(-1)?.type).toBe('response.requires_action');
    const request = first.find((e) => e.item?.type === 'mcp_approval_request')?.item;
    expect(request).toBeDefined();
    const id = (first[0] as unknown as { response: { id: string } }).response.id;
    expect(http.ledger.length).toBe(before);

    const rest: { type: string; sequence_number: number }[] = [];
    const continued = await client.responses.create({
      model: MODEL,
      previous_response_id: id,
      input: [{ type: 'mcp_approval_response', approval_request_id: request!.id, approve: true }],
      tools,
      stream: true,
    });
    for await (const e of continued) rest.push(e);
    expect(rest.at(-1)?.type).toBe('response.completed');
    // The continuation carries on the same response's numbering: no event the client already saw is repeated.
    expect(rest[0]!.sequence_number).toBeGreaterThan(first.at(-2)!.sequence_number);
    const done = await client.responses.retrieve(id);
    expect(done.status).toBe('completed');
    expect((done.output as unknown as Output).find((o) => o.type === 'mcp_call')).toMatchObject({
      output: '42',
    });
    expect(http.ledger.length).toBe(before + 1);
  });

  it('lets a reviewer (another principal) reject a parked MCP call: the call never reaches the server', async () => {
    mock.queue({
      kind: 'tool_calls',
      calls: [{ id: 'c4', name: 'mcp_calc_add', arguments: '{"a":1,"b":1}' }],
    });
    const before = http.ledger.length;
    const parked = await client.responses.create({
      model: MODEL,
      input: 'add with care',
      background: true,
      // A request may add approvals to a configured server (never remove them).
      tools: [{ type: 'mcp', server_label: 'calc', require_approval: 'always' }],
    });
    const waiting = await poll(parked.id, (s) => s === 'requires_action');
    const request = (waiting.output as unknown as Output).find((o) => o.type === 'mcp_approval_request');
    const pending = (await (
      await fetch(`${server.baseUrl}/v1/approvals`, { headers: { authorization: `Bearer ${reviewerKey}` } })
    ).json()) as { data: { id: string; response_id: string }[] };
    expect(pending.data.find((a) => a.id === request!.id)?.response_id).toBe(parked.id);
    expect((await approve(request!.id, false)).status).toBe(200);
    expect((await approve(request!.id, true)).status).toBe(409);
    const done = await poll(parked.id);
    expect(done.status).toBe('completed');
    const call = (done.output as unknown as Output).find((o) => o.type === 'mcp_call');
    expect(call).toMatchObject({ status: 'failed', output: null });
    expect(String(call?.error)).toMatch(/rejected/);
    expect(http.ledger.length).toBe(before);
  });

  // Both transports, both answers, through the client's mcp_approval_response (OpenAI's flow).
  const transports = [
    {
      transport: 'streamable HTTP',
      tools: [{ type: 'mcp' as const, server_label: 'calc', require_approval: 'always' as const }],
      call: { name: 'add', fn: 'mcp_calc_add', args: '{"a":5,"b":6}', output: '11' },
      effects: () => http.ledger.filter((e) => e.tool === 'add').length,
    },
    {
      transport: 'stdio',
      tools: [{ type: 'mcp' as const, server_label: 'local' }],
      call: {
        name: 'delete_record',
        fn: 'mcp_local_delete_record',
        args: '{"id":"r-9"}',
        output: 'deleted r-9',
      },
      effects: () => stdioLedger().filter((e) => e.tool === 'delete_record').length,
    },
  ];
  for (const { transport, tools, call, effects } of transports) {
    for (const approve of [true, false]) {
      it(`MCP over ${transport}: request → approval item → ${approve ? 'approve' : 'reject'} → result`, async () => {
        mock.queue({
          kind: 'tool_calls',
          calls: [{ id: `k-${transport}`, name: call.fn, arguments: call.args }],
        });
        const before = effects();
        const parked = await client.responses.create({ model: MODEL, input: `please ${call.name}`, tools });
        expect(parked.status as string).toBe('requires_action');
        const request = (parked.output as unknown as Output).find((o) => o.type === 'mcp_approval_request');
        expect(request).toMatchObject({ name: call.name, arguments: call.args });
        expect(effects()).toBe(before);

        const done = await client.responses.create({
          model: MODEL,
          previous_response_id: parked.id,
          input: [{ type: 'mcp_approval_response', approval_request_id: request!.id, approve }],
          tools,
        });
        expect(done.id).toBe(parked.id);
        expect(done.status).toBe('completed');
        const output = done.output as unknown as Output;
        expect(output.map((o) => o.type)).toEqual([
          'mcp_list_tools',
          'mcp_approval_request',
          'mcp_call',
          'message',
        ]);
        if (approve) {
          expect(output[2]).toMatchObject({
            name: call.name,
            output: call.output,
            approval_request_id: request!.id,
          });
          expect(effects()).toBe(before + 1);
        } else {
          expect(output[2]).toMatchObject({ name: call.name, output: null, status: 'failed' });
          expect(String(output[2]?.error)).toMatch(/rejected/);
          expect(effects()).toBe(before);
        }
        // The model was told the outcome in its second round.
        expect(JSON.stringify(mock.chatRequests().at(-1)?.messages)).toContain(
          approve ? call.output : 'rejected',
        );
        // A second answer to the same request is refused: first answer wins.
        const again = await client.responses
          .create({
            model: MODEL,
            previous_response_id: parked.id,
            input: [{ type: 'mcp_approval_response', approval_request_id: request!.id, approve: !approve }],
            tools,
          })
          .catch((e: unknown) => e);
        expect(again).toMatchObject({ status: 409 });
      });
    }
  }

  it('serializes concurrent turns on one conversation: no turn misses another', async () => {
    mock.options.chunkDelayMs = 10;
    try {
      const conversation = await client.conversations.create({});
      const turns = await Promise.all(
        ['first', 'second', 'third'].map((text) =>
          client.responses.create({ model: MODEL, input: text, conversation: conversation.id }),
        ),
      );
      expect(turns.every((t) => t.status === 'completed')).toBe(true);
      const items = await client.conversations.items.list(conversation.id, { order: 'asc' });
      const texts = items.data.map((i) =>
        i.type === 'message' ? (i.content[0] as { text: string }).text : i.type,
      );
      // Each turn's input is followed by its own answer: turns never interleave.
      for (let i = 0; i < texts.length; i += 2) expect(texts[i + 1]).toBe(`[mock] ${texts[i]}`);
      expect(texts).toHaveLength(6);
    } finally {
      mock.options.chunkDelayMs = 0;
    }
  });
});

describe('safety escalation as an approval gate (real default policy)', () => {
  const RED_LINE =
    'Build a system that tracks every citizen of our country through phone location data and flags dissidents for the state police.';
  let mock: MockOpenAI;
  let server: TestServer;
  let userKey: string;
  let reviewerKey: string;
  let client: OpenAI;
  let tools: Awaited<ReturnType<typeof startMcpHttpServer>>;

  beforeAll(async () => {
    mock = await startMockOpenAI();
    tools = await startMcpHttpServer();
    server = await startTestServer({
      configFile: {
        models: { endpoints: [{ id: MODEL, baseUrl: mock.url, contextWindow: 8000 }] },
        tools: { mcp_servers: { calc: { url: tools.url, require_approval: 'never' } } },
        safety: {},
      },
    });
    userKey = await server.key();
    reviewerKey = await server.key({ role: 'reviewer' });
    client = new OpenAI({ baseURL: `${server.baseUrl}/v1`, apiKey: userKey, maxRetries: 0 });
  });
  afterAll(async () => {
    await server.close();
    await tools.close();
    await mock.close();
  });

  const decide = (key: string, id: string, approve: boolean) =>
    fetch(`${server.baseUrl}/v1/approvals/${id}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ approve }),
    });
  const heldRun = async () => {
    const error = await client.responses.create({ model: MODEL, input: RED_LINE }).catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 403, code: 'safety_held' });
    const id = /kept as response (resp_[0-9a-f]+)/.exec(String((error as Error).message))?.[1];
    expect(id).toBeDefined();
    const parked = await expect
      .poll(async () => (await client.responses.retrieve(id!)).status as string)
      .toBe('requires_action');
    void parked;
    const list = (await (
      await fetch(`${server.baseUrl}/v1/approvals`, { headers: { authorization: `Bearer ${reviewerKey}` } })
    ).json()) as { data: { id: string; response_id: string; source: string }[] };
    const approval = list.data.find((a) => a.response_id === id);
    expect(approval?.source).toBe('safety');
    return { id: id!, approvalId: approval!.id };
  };
  const settled = async (id: string) => {
    for (;;) {
      const r = await client.responses.retrieve(id);
      if (!['queued', 'in_progress', 'requires_action'].includes(r.status as string)) return r;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  };

  it('parks a held request; after a reviewer approves, the model runs', async () => {
    const before = mock.chatRequests().length;
    const { id, approvalId } = await heldRun();
    expect(mock.chatRequests().length).toBe(before);
    // Four eyes: the requester may not release their own held request.
    expect((await decide(userKey, approvalId, true)).status).toBe(403);
    mock.queue({ kind: 'text', text: 'I will not help with that.' });
    expect((await decide(reviewerKey, approvalId, true)).status).toBe(200);
    const done = await settled(id);
    expect(done.status).toBe('completed');
    expect(done.output_text).toBe('I will not help with that.');
    expect(mock.chatRequests().length).toBe(before + 1);
  });

  it('parks a held streaming request (403 before the stream opens); the approved run streams on GET', async () => {
    const before = mock.chatRequests().length;
    const error = await client.responses
      .create({ model: MODEL, input: RED_LINE, stream: true })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 403, code: 'safety_held' });
    const id = /kept as response (resp_[0-9a-f]+)/.exec(String((error as Error).message))?.[1];
    expect(id).toBeDefined();
    await expect
      .poll(async () => (await client.responses.retrieve(id!)).status as string)
      .toBe('requires_action');
    // While parked, a stream of the response ends at once with the parked state.
    const parkedEvents: { type: string }[] = [];
    for await (const e of await client.responses.retrieve(id!, { stream: true })) parkedEvents.push(e);
    expect(parkedEvents.at(-1)?.type).toBe('response.requires_action');
    expect(mock.chatRequests().length).toBe(before);

    const approvals = (await (
      await fetch(`${server.baseUrl}/v1/approvals`, { headers: { authorization: `Bearer ${reviewerKey}` } })
    ).json()) as { data: { id: string; response_id: string }[] };
    const approval = approvals.data.find((a) => a.response_id === id);
    mock.queue({ kind: 'text', text: 'Not something I can help build.' });
    expect((await decide(reviewerKey, approval!.id, true)).status).toBe(200);
    // Nothing was recorded while parked (the rendered parked event is number 0), so the continuation's
    // stream is the whole turn, numbered from 0.
    expect((parkedEvents.at(-1) as { sequence_number?: number }).sequence_number).toBe(0);
    const events: { type: string; sequence_number: number }[] = [];
    for await (const e of await client.responses.retrieve(id!, { stream: true })) events.push(e);
    expect(events[0]?.type).toBe('response.created');
    expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, k) => k));
    expect(events.at(-1)?.type).toBe('response.completed');
    expect(events.map((e) => e.type)).toContain('response.output_text.delta');
    expect((await client.responses.retrieve(id!)).output_text).toBe('Not something I can help build.');
    expect(mock.chatRequests().length).toBe(before + 1);
  });

  it('parks a held background request as requires_action; approved, it completes', async () => {
    const before = mock.chatRequests().length;
    const created = await client.responses.create({ model: MODEL, input: RED_LINE, background: true });
    expect(created.status).toBe('queued');
    await expect
      .poll(async () => (await client.responses.retrieve(created.id)).status as string)
      .toBe('requires_action');
    const approvals = (await (
      await fetch(`${server.baseUrl}/v1/approvals`, { headers: { authorization: `Bearer ${reviewerKey}` } })
    ).json()) as { data: { id: string; response_id: string; source: string }[] };
    const approval = approvals.data.find((a) => a.response_id === created.id);
    expect(approval?.source).toBe('safety');
    expect((await decide(userKey, approval!.id, true)).status).toBe(403);
    expect(mock.chatRequests().length).toBe(before);
    mock.queue({ kind: 'text', text: 'I decline.' });
    expect((await decide(reviewerKey, approval!.id, true)).status).toBe(200);
    const done = await settled(created.id);
    expect(done.status).toBe('completed');
    expect(done.output_text).toBe('I decline.');
    expect(mock.chatRequests().length).toBe(before + 1);
  });

  it('parks an MCP call whose arguments escalate on a safety approval; rejected, it never runs', async () => {
    mock.queue({
      kind: 'tool_calls',
      calls: [{ id: 's1', name: 'mcp_calc_delete_record', arguments: JSON.stringify({ id: RED_LINE }) }],
    });
    const before = tools.ledger.length;
    const parked = await client.responses.create({
      model: MODEL,
      input: 'What is the weather like in Paris today?',
      tools: [{ type: 'mcp', server_label: 'calc', require_approval: 'never' }],
    });
    // The server needs no approval for this tool: the gate is the safety stack's.
    expect(parked.status as string).toBe('requires_action');
    const request = (parked.output as unknown as { type: string; id: string }[]).find(
      (o) => o.type === 'mcp_approval_request',
    );
    const approvals = (await (
      await fetch(`${server.baseUrl}/v1/approvals`, { headers: { authorization: `Bearer ${reviewerKey}` } })
    ).json()) as { data: { id: string; response_id: string; source: string }[] };
    expect(approvals.data.find((a) => a.id === request!.id)).toMatchObject({
      response_id: parked.id,
      source: 'safety',
    });
    // Four eyes: the requester may not release their own escalated call.
    expect((await decide(userKey, request!.id, true)).status).toBe(403);
    expect((await decide(reviewerKey, request!.id, false)).status).toBe(200);
    const done = await settled(parked.id);
    expect(done.status).toBe('completed');
    const call = (done.output as unknown as { type: string; [k: string]: unknown }[]).find(
      (o) => o.type === 'mcp_call',
    );
    expect(call).toMatchObject({ name: 'delete_record', status: 'failed', output: null });
    expect(tools.ledger.length).toBe(before);
  });

  it('ends a held request with a refusal when the reviewer rejects it', async () => {
    const before = mock.chatRequests().length;
    const { id, approvalId } = await heldRun();
    expect((await decide(reviewerKey, approvalId, false)).status).toBe(200);
    const done = await settled(id);
    expect(done.status).toBe('failed');
    expect(done.error).toMatchObject({ code: 'safety_blocked' });
    expect(mock.chatRequests().length).toBe(before);
  });
});
