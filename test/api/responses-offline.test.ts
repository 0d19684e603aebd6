import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';

/** The stateful API with only the built-in offline model: no upstream, no key of any provider. */
describe('Responses API on the offline local model', () => {
  let server: TestServer;
  let client: OpenAI;

  beforeAll(async () => {
    server = await startTestServer();
    client = new OpenAI({ baseURL: `${server.baseUrl}/v1`, apiKey: await server.key(), maxRetries: 0 });
  });
  afterAll(async () => server.close());

  it('compacts with an extractive summary that quotes the history', async () => {
    const conv = await client.conversations.create({});
    const facts = [
      'The launch window opens on 4 March.',
      'The payload mass is 812 kilograms.',
      'The backup site is Andøya.',
    ];
    for (const fact of facts)
      await client.responses.create({ model: 'local/echo', input: fact, conversation: conv.id });
    await client.responses.create({
      model: 'local/echo',
      input: 'anything else?',
      conversation: conv.id,
      context_management: [{ type: 'compaction', compact_threshold: 20 }],
    });
    const items = await client.conversations.items.list(conv.id, { order: 'asc', limit: 100 });
    const compaction = items.data.find((i) => i.type === 'compaction') as unknown as
      { encrypted_content: string } | undefined;
    expect(compaction).toBeDefined();
    expect(facts.some((f) => compaction?.encrypted_content.includes(f))).toBe(true);
  });

  it('runs a function-call round trip offline', async () => {
    const tools = [
      {
        type: 'function' as const,
        name: 'lookup',
        parameters: { type: 'object', properties: {} },
        strict: false,
      },
    ];
    const first = await client.responses.create({
      model: 'local/echo',
      input: 'call lookup {"q":"x"}',
      tools,
    });
    const call = first.output.find((o) => o.type === 'function_call');
    expect(call).toMatchObject({ name: 'lookup' });
    const callId = (call as { call_id: string }).call_id;
    const second = await client.responses.create({
      model: 'local/echo',
      previous_response_id: first.id,
      tools,
      input: [{ type: 'function_call_output', call_id: callId, output: '42' }],
    });
    expect(second.output_text).toContain('42');
  });
});
