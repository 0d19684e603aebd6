import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMockOpenAI, type MockOpenAI } from '../support/mock-openai.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { engines } from '../support/stores.js';

const MODEL = 'openai/mock-1';

/** The text of every message the upstream received in one chat request, as "role: text". */
const transcript = (body: { messages: unknown[] } | undefined): string[] =>
  (body?.messages ?? []).map((m) => {
    const msg = m as { role: string; content?: unknown; tool_calls?: unknown[]; tool_call_id?: string };
    const content =
      typeof msg.content === 'string' ? msg.content : msg.content == null ? '' : JSON.stringify(msg.content);
    return `${msg.role}: ${content}${msg.tool_calls ? ` ${JSON.stringify(msg.tool_calls)}` : ''}`;
  });

for (const engine of engines) {
  describe(`Responses API with the official client [${engine}]`, () => {
    let mock: MockOpenAI;
    let server: TestServer;
    let client: OpenAI;
    let otherTenant: OpenAI;

    beforeAll(async () => {
      mock = await startMockOpenAI();
      server = await startTestServer({
        engine,
        configFile: {
          models: {
            endpoints: [
              { id: MODEL, baseUrl: mock.url, contextWindow: 4000 },
              { id: 'openai/mock-small', model: 'mock-1', baseUrl: mock.url, contextWindow: 120 },
            ],
          },
        },
      });
      client = new OpenAI({ baseURL: `${server.baseUrl}/v1`, apiKey: await server.key(), maxRetries: 0 });
      otherTenant = new OpenAI({
        baseURL: `${server.baseUrl}/v1`,
        apiKey: await server.key({ tenant: 'tenant-b' }),
        maxRetries: 0,
      });
    });
    afterAll(async () => {
      await server.close();
      await mock.close();
    });

    it('creates a response and stores it with usage, model and label', async () => {
      const before = mock.chatRequests().length;
      const response = await client.responses.create({
        model: MODEL,
        input: 'hello there',
        instructions: 'be brief',
        metadata: { k: 'v' },
      });
      expect(response.status).toBe('completed');
      expect(response.output_text).toBe('[mock] hello there');
      expect(response.usage?.total_tokens).toBeGreaterThan(0);
      expect(response.metadata).toEqual({ k: 'v' });
      expect((response as unknown as { label: string }).label).toBe('UNCLASSIFIED');
      const sent = mock.chatRequests()[before];
      expect(transcript(sent)).toEqual(['system: be brief', 'user: hello there']);
      const stored = await client.responses.retrieve(response.id);
      expect(stored.output_text).toBe('[mock] hello there');
      expect(stored.model).toBe(MODEL);
      const inputs = await client.responses.inputItems.list(response.id, { order: 'asc' });
      expect(inputs.data).toHaveLength(1);
    });

    it('sends the full prior history on a previous_response_id chain', async () => {
      const first = await client.responses.create({ model: MODEL, input: 'my name is Ada' });
      const second = await client.responses.create({
        model: MODEL,
        input: 'what is my name?',
        previous_response_id: first.id,
      });
      const third = await client.responses.create({
        model: MODEL,
        input: 'and again?',
        previous_response_id: second.id,
      });
      expect(third.previous_response_id).toBe(second.id);
      expect(transcript(mock.chatRequests().at(-1))).toEqual([
        'user: my name is Ada',
        'assistant: [mock] my name is Ada',
        'user: what is my name?',
        'assistant: [mock] what is my name?',
        'user: and again?',
      ]);
      const inputs = await client.responses.inputItems.list(third.id, { order: 'asc', limit: 2 });
      expect(inputs.data.map((i) => (i as { type: string }).type)).toEqual(['message', 'message']);
      expect(inputs.has_more).toBe(true);
    });

    it('keeps a conversation, sends its history and nothing from another conversation', async () => {
      const a = await client.conversations.create({
        metadata: { topic: 'a' },
        items: [{ type: 'message', role: 'user', content: 'seed of A' }],
      });
      const b = await client.conversations.create({});
      await client.responses.create({ model: MODEL, input: 'secret of B', conversation: b.id });
      await client.responses.create({ model: MODEL, input: 'first in A', conversation: a.id });
      await client.responses.create({ model: MODEL, input: 'second in A', conversation: { id: a.id } });
      const sent = transcript(mock.chatRequests().at(-1));
      expect(sent).toEqual([
        'user: seed of A',
        'user: first in A',
        'assistant: [mock] first in A',
        'user: second in A',
      ]);
      expect(sent.join('\n')).not.toContain('secret of B');
      const items = await client.conversations.items.list(a.id, { order: 'asc' });
      expect(items.data).toHaveLength(5);
      const page = await client.conversations.items.list(a.id, { order: 'asc', limit: 2 });
      expect(page.has_more).toBe(true);
      const next = await client.conversations.items.list(a.id, {
        order: 'asc',
        limit: 2,
        after: page.data[1]?.id ?? '',
      });
      expect(next.data[0]?.id).toBe(items.data[2]?.id);
    });

    it('compacts a conversation past the threshold and sends the compaction, keeping the full history', async () => {
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
      const requests = mock.chatRequests().slice(before);
      // One summarisation call through the same endpoint, then the turn itself with the summary.
      expect(requests).toHaveLength(2);
      const turn = transcript(requests[1]);
      expect(turn).toHaveLength(2);
      expect(turn[0]).toMatch(/^(developer|system): Summary of the earlier conversation/);
      expect(turn[1]).toBe('user: what changed?');
      const items = await client.conversations.items.list(conv.id, { order: 'asc', limit: 100 });
      const types = items.data.map((i) => i.type);
      expect(types.filter((t) => t === 'message')).toHaveLength(8);
      expect(types).toContain('compaction');
      // The next turn continues from the compaction, not from the whole history.
      await client.responses.create({ model: MODEL, input: 'and then?', conversation: conv.id });
      expect(transcript(mock.chatRequests().at(-1))).toHaveLength(4);
    });

    it('streams with OpenAI event types and sequence numbers', async () => {
      const stream = client.responses.stream({ model: MODEL, input: 'stream these words please' });
      const types: string[] = [];
      const sequence: number[] = [];
      for await (const event of stream) {
        types.push(event.type);
        sequence.push(event.sequence_number);
      }
      const final = await stream.finalResponse();
      expect(final.output_text).toBe('[mock] stream these words please');
      expect(types.slice(0, 4)).toEqual([
        'response.created',
        'response.in_progress',
        'response.output_item.added',
        'response.content_part.added',
      ]);
      expect(types).toContain('response.output_text.delta');
      expect(types.slice(-4)).toEqual([
        'response.output_text.done',
        'response.content_part.done',
        'response.output_item.done',
        'response.completed',
      ]);
      expect(sequence).toEqual(sequence.map((_, i) => i));
      expect((await client.responses.retrieve(final.id)).status).toBe('completed');
    });

    it('returns function calls and takes their outputs next turn', async () => {
      mock.queue({
        kind: 'tool_calls',
        calls: [{ id: 'call_w1', name: 'weather', arguments: '{"city":"Oslo"}' }],
      });
      const tools = [
        {
          type: 'function' as const,
          name: 'weather',
          parameters: { type: 'object', properties: { city: { type: 'string' } } },
          strict: false,
        },
      ];
      const first = await client.responses.create({ model: MODEL, input: 'weather in Oslo?', tools });
      const call = first.output.find((o) => o.type === 'function_call');
      expect(call).toMatchObject({
        type: 'function_call',
        call_id: 'call_w1',
        name: 'weather',
        arguments: '{"city":"Oslo"}',
      });
      const second = await client.responses.create({
        model: MODEL,
        previous_response_id: first.id,
        tools,
        input: [{ type: 'function_call_output', call_id: 'call_w1', output: 'sunny' }],
      });
      expect(second.status).toBe('completed');
      const sent = mock.chatRequests().at(-1);
      expect(sent?.tools?.[0]).toMatchObject({ type: 'function', function: { name: 'weather' } });
      expect(transcript(sent).slice(-2)).toEqual([
        'assistant:  [{"id":"call_w1","type":"function","function":{"name":"weather","arguments":"{\\"city\\":\\"Oslo\\"}"}}]',
        'tool: sunny',
      ]);
    });

    it('refuses an oversized context, or drops the oldest items with truncation auto', async () => {
      const long = 'alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november. ';
      const first = await client.responses.create({ model: 'openai/mock-small', input: long.repeat(2) });
      await expect(
        client.responses.create({
          model: 'openai/mock-small',
          input: long.repeat(2),
          previous_response_id: first.id,
        }),
      ).rejects.toMatchObject({ status: 400, error: { param: 'input' } });
      const fitted = await client.responses.create({
        model: 'openai/mock-small',
        input: 'short question',
        previous_response_id: first.id,
        truncation: 'auto',
        max_output_tokens: 60,
      });
      expect(fitted.status).toBe('completed');
      const sent = transcript(mock.chatRequests().at(-1));
      expect(sent.at(-1)).toBe('user: short question');
      // The oldest items went; a 60-token answer budget leaves no room for both long messages.
      expect(sent.length).toBeLessThan(3);
      expect(sent[0]).not.toMatch(/^user: alpha/);
    });

    it('deletes a response', async () => {
      const r = await client.responses.create({ model: MODEL, input: 'to delete' });
      expect(await client.responses.delete(r.id)).toMatchObject({ id: r.id, deleted: true });
      await expect(client.responses.retrieve(r.id)).rejects.toMatchObject({ status: 404 });
    });

    it('manages conversations and their items', async () => {
      const conv = await client.conversations.create({ metadata: { a: '1' } });
      expect((await client.conversations.update(conv.id, { metadata: { a: '2' } })).metadata).toEqual({
        a: '2',
      });
      const added = await client.conversations.items.create(conv.id, {
        items: [
          { type: 'message', role: 'user', content: 'x' },
          { type: 'message', role: 'user', content: 'y' },
        ],
      });
      expect(added.data).toHaveLength(2);
      const id = added.data[0]?.id ?? '';
      expect(await client.conversations.items.retrieve(id, { conversation_id: conv.id })).toMatchObject({
        id,
        type: 'message',
      });
      await client.conversations.items.delete(id, { conversation_id: conv.id });
      await expect(
        client.conversations.items.retrieve(id, { conversation_id: conv.id }),
      ).rejects.toMatchObject({ status: 404 });
      expect(await client.conversations.delete(conv.id)).toMatchObject({ id: conv.id, deleted: true });
      await expect(client.conversations.retrieve(conv.id)).rejects.toMatchObject({ status: 404 });
      await expect(
        client.conversations.items.retrieve(added.data[1]?.id ?? '', { conversation_id: conv.id }),
      ).rejects.toMatchObject({ status: 404 });
    });

    it('answers chat completions with and without stream, and lists models', async () => {
      const chat = await client.chat.completions.create({
        model: MODEL,
        messages: [{ role: 'user', content: 'hi chat' }],
      });
      expect(chat.choices[0]?.message.content).toBe('[mock] hi chat');
      expect(chat.usage?.total_tokens).toBeGreaterThan(0);
      const stream = await client.chat.completions.create({
        model: MODEL,
        messages: [{ role: 'user', content: 'hi stream' }],
        stream: true,
        stream_options: { include_usage: true },
      });
      let text = '';
      let usage = 0;
      for await (const chunk of stream) {
        text += chunk.choices[0]?.delta.content ?? '';
        usage = chunk.usage?.total_tokens ?? usage;
      }
      expect(text).toBe('[mock] hi stream');
      expect(usage).toBeGreaterThan(0);
      mock.queue({ kind: 'tool_calls', calls: [{ id: 'call_c1', name: 'lookup', arguments: '{}' }] });
      const tooled = await client.chat.completions.create({
        model: MODEL,
        messages: [{ role: 'user', content: 'look it up' }],
        tools: [
          { type: 'function', function: { name: 'lookup', parameters: { type: 'object', properties: {} } } },
        ],
      });
      expect(tooled.choices[0]?.message.tool_calls?.[0]).toMatchObject({
        id: 'call_c1',
        function: { name: 'lookup' },
      });
      expect(tooled.choices[0]?.finish_reason).toBe('tool_calls');
      const models = await client.models.list();
      expect(models.data.map((m) => m.id)).toEqual(expect.arrayContaining([MODEL, 'local/echo']));
    });

    it('refuses bad input with 4xx in OpenAI error shape', async () => {
      await expect(
        client.responses.create({ model: MODEL, input: 'x', previous_response_id: 'resp_nope' }),
      ).rejects.toMatchObject({
        status: 404,
        error: { type: 'invalid_request_error', param: 'previous_response_id' },
      });
      const conv = await client.conversations.create({});
      await expect(
        otherTenant.responses.create({ model: MODEL, input: 'x', conversation: conv.id }),
      ).rejects.toMatchObject({ status: 404 });
      await expect(otherTenant.conversations.retrieve(conv.id)).rejects.toMatchObject({ status: 404 });
      const r = await client.responses.create({ model: MODEL, input: 'x' });
      await expect(otherTenant.responses.retrieve(r.id)).rejects.toMatchObject({ status: 404 });
      await expect(
        client.responses.create({
          model: MODEL,
          input: 'x',
          previous_response_id: r.id,
          conversation: conv.id,
        }),
      ).rejects.toMatchObject({
        status: 400,
        error: { param: 'previous_response_id' },
      });
      const malformed = client.responses.create({
        model: MODEL,
        input: [{ type: 'message', role: 'robot', content: 'x' }] as never,
      });
      await expect(malformed).rejects.toMatchObject({
        status: 400,
        error: { type: 'invalid_request_error', code: 'invalid_request' },
      });
      await expect(
        client.responses.create({
          model: MODEL,
          input: [{ type: 'function_call_output', call_id: 'call_unknown', output: 'x' }],
        }),
      ).rejects.toMatchObject({ status: 400, error: { param: 'input[0].call_id' } });
      await expect(client.responses.create({ model: 'openai/unknown', input: 'x' })).rejects.toMatchObject({
        status: 404,
      });
    });
  });
}
