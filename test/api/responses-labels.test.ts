import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMockOpenAI, type MockOpenAI } from '../support/mock-openai.js';
import { startTestServer, type TestServer } from '../support/server.js';

const MODEL = 'openai/mock-1';
const SECRET_MODEL = 'openai/mock-secret';
const headers = (banner: string) => ({ headers: { 'Enclave-Classification': banner } });

describe('labels and disconnects on the stateful API', () => {
  let mock: MockOpenAI;
  let server: TestServer;
  let low: OpenAI;
  let high: OpenAI;

  beforeAll(async () => {
    mock = await startMockOpenAI();
    server = await startTestServer({
      configFile: {
        models: {
          endpoints: [
            { id: MODEL, baseUrl: mock.url },
            { id: SECRET_MODEL, baseUrl: mock.url, accreditation: { label: 'SECRET' } },
          ],
        },
      },
    });
    const client = async (clearance: string) =>
      new OpenAI({ baseURL: `${server.baseUrl}/v1`, apiKey: await server.key({ clearance }), maxRetries: 0 });
    low = await client('UNCLASSIFIED');
    high = await client('SECRET');
  });
  afterAll(async () => {
    await server.close();
    await mock.close();
  });

  it('labels by header, defaults to the clearance, and refuses a label above it', async () => {
    const unclass = await high.responses.create({ model: SECRET_MODEL, input: 'x' }, headers('UNCLASSIFIED'));
    expect((unclass as unknown as { label: string }).label).toBe('UNCLASSIFIED');
    const defaulted = await high.responses.create({ model: SECRET_MODEL, input: 'x' });
    expect((defaulted as unknown as { label: string }).label).toBe('SECRET');
    await expect(low.responses.create({ model: MODEL, input: 'x' }, headers('SECRET'))).rejects.toMatchObject(
      {
        status: 403,
        error: { code: 'label_denied' },
      },
    );
    await expect(
      low.responses.create({
        model: MODEL,
        input: [{ role: 'user', content: 'x', label: 'SECRET' } as never],
      }),
    ).rejects.toMatchObject({
      status: 403,
      error: { code: 'label_denied' },
    });
    await expect(
      low.responses.create({ model: MODEL, input: 'x' }, headers('NOT A LABEL')),
    ).rejects.toMatchObject({ status: 400 });
  });

  it('never contacts an endpoint not accredited for the context label', async () => {
    const before = mock.chatRequests().length;
    await expect(
      high.responses.create({ model: MODEL, input: 'classified' }, headers('SECRET')),
    ).rejects.toMatchObject({
      status: 403,
      error: { code: 'not_accredited' },
    });
    expect(mock.chatRequests().length).toBe(before);
  });

  it('hides higher objects (404) and raises the label of a chain to its high-water mark', async () => {
    const secret = await high.responses.create(
      { model: SECRET_MODEL, input: 'the secret' },
      headers('SECRET'),
    );
    await expect(low.responses.retrieve(secret.id)).rejects.toMatchObject({ status: 404 });
    // A SECRET user continuing a SECRET chain with an UNCLASSIFIED header still gets a SECRET answer.
    const next = await high.responses.create(
      { model: SECRET_MODEL, input: 'more', previous_response_id: secret.id },
      headers('UNCLASSIFIED'),
    );
    expect((next as unknown as { label: string }).label).toBe('SECRET');
    const conv = await high.conversations.create({}, headers('SECRET'));
    await expect(low.conversations.retrieve(conv.id)).rejects.toMatchObject({ status: 404 });
    await expect(low.conversations.items.list(conv.id)).rejects.toMatchObject({ status: 404 });
  });

  it('refuses to write down into a lower conversation and records the high-water mark', async () => {
    const conv = await high.conversations.create({}, headers('UNCLASSIFIED'));
    // Unlabelled data from a SECRET principal is SECRET: it may not go into an UNCLASSIFIED conversation.
    await expect(
      high.conversations.items.create(conv.id, { items: [{ role: 'user', content: 'x' }] }),
    ).rejects.toMatchObject({
      status: 403,
      error: { code: 'label_denied' },
    });
    await expect(
      high.responses.create({ model: SECRET_MODEL, input: 'x', conversation: conv.id }),
    ).rejects.toMatchObject({
      status: 403,
      error: { code: 'label_denied' },
    });
    await high.responses.create(
      { model: SECRET_MODEL, input: 'fine', conversation: conv.id },
      headers('UNCLASSIFIED'),
    );
    const mixed = await high.conversations.create({}, headers('SECRET'));
    await high.conversations.items.create(
      mixed.id,
      { items: [{ role: 'user', content: 'low part' }] },
      headers('UNCLASSIFIED'),
    );
    expect(await high.conversations.retrieve(mixed.id)).toMatchObject({
      label: 'SECRET',
      high_water_label: 'UNCLASSIFIED',
    });
    await high.conversations.items.create(mixed.id, { items: [{ role: 'user', content: 'high part' }] });
    expect(await high.conversations.retrieve(mixed.id)).toMatchObject({ high_water_label: 'SECRET' });
    const answer = await high.responses.create(
      { model: SECRET_MODEL, input: 'go', conversation: mixed.id },
      headers('UNCLASSIFIED'),
    );
    expect((answer as unknown as { label: string }).label).toBe('SECRET');
  });

  it('ignores a clearance sent in the body', async () => {
    await expect(
      low.responses.create({ model: MODEL, input: 'x', clearance: 'TOP SECRET' } as never, headers('SECRET')),
    ).rejects.toMatchObject({ status: 403 });
  });

  it('stores a response as incomplete when the client disconnects mid-stream', async () => {
    mock.options.chunkDelayMs = 40;
    const words = Array.from({ length: 40 }, (_, i) => `w${i}`).join(' ');
    const controller = new AbortController();
    const stream = low.responses.stream({ model: MODEL, input: words }, { signal: controller.signal });
    let id = '';
    let deltas = 0;
    await expect(
      (async () => {
        for await (const event of stream) {
          if (event.type === 'response.created') id = event.response.id;
          if (event.type === 'response.output_text.delta' && ++deltas === 3) controller.abort();
        }
      })(),
    ).rejects.toThrow();
    let stored = await low.responses.retrieve(id).catch(() => undefined);
    for (let i = 0; i < 100 && stored?.status !== 'incomplete'; i++) {
      await new Promise((r) => setTimeout(r, 20));
      stored = await low.responses.retrieve(id).catch(() => undefined);
    }
    expect(stored?.status).toBe('incomplete');
    expect(stored?.incomplete_details).toEqual({ reason: 'client_disconnected' });
    const message = stored?.output[0];
    expect(message).toMatchObject({ type: 'message', status: 'incomplete' });
    expect(stored?.output_text.length).toBeLessThan(`[mock] ${words}`.length);
    // The upstream request was cut off too, not left running to the end.
    const upstream = mock.received.at(-1);
    for (let i = 0; i < 100 && !upstream?.closedEarly && !upstream?.finished; i++)
      await new Promise((r) => setTimeout(r, 20));
    expect(upstream).toMatchObject({ closedEarly: true, finished: false });
    mock.options.chunkDelayMs = 0;
  });
});
