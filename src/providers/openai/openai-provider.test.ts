import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startMockOpenAI, type MockOpenAI } from '../../../test/support/mock-openai.js';
import { collectTurn } from '../collect-turn.js';
import type { ModelEvent, ModelRequest } from '../model-provider.js';
import { UpstreamError } from '../provider-error.js';
import { countRequestTokens } from '../tokens.js';
import { OpenAIProvider } from './openai-provider.js';

let mock: MockOpenAI;
beforeAll(async () => {
  mock = await startMockOpenAI();
});
afterAll(() => mock.close());
beforeEach(() => {
  mock.received.length = 0;
  mock.options = {};
});

const key = 'sk-test-0123456789abcdef';
const provider = (options: Partial<ConstructorParameters<typeof OpenAIProvider>[0]> = {}) =>
  new OpenAIProvider({ endpointId: 'openai/mock-model', baseURL: mock.url, apiKey: key, ...options });
const request = (overrides: Partial<ModelRequest> = {}): ModelRequest => ({
  model: 'mock-model',
  items: [{ type: 'message', role: 'user', text: 'hello there upstream' }],
  ...overrides,
});

describe('OpenAIProvider', () => {
  it('maps a conversation with tool history to Chat Completions messages', async () => {
    await collectTurn(
      provider().stream(
        request({
          instructions: 'Be brief.',
          items: [
            { type: 'message', role: 'developer', text: 'dev note' },
            { type: 'message', role: 'user', text: 'weather?' },
            { type: 'message', role: 'assistant', text: 'Checking.' },
            { type: 'function_call', callId: 'c1', name: 'get_weather', arguments: '{"city":"Oslo"}' },
            { type: 'function_call', callId: 'c2', name: 'get_time', arguments: '{}' },
            { type: 'function_call_output', callId: 'c1', output: '21C' },
            { type: 'function_call_output', callId: 'c2', output: 'noon' },
          ],
          tools: [
            { name: 'get_weather', description: 'Weather', parameters: { type: 'object' }, strict: true },
          ],
          toolChoice: { name: 'get_weather' },
          temperature: 0.2,
          maxOutputTokens: 50,
        }),
      ),
    );
    const [body] = mock.chatRequests();
    expect(mock.received[0]?.headers.authorization).toBe(`Bearer ${key}`);
    expect(body).toMatchObject({
      model: 'mock-model',
      stream: true,
      stream_options: { include_usage: true },
      temperature: 0.2,
      max_tokens: 50,
      tool_choice: { type: 'function', function: { name: 'get_weather' } },
      tools: [
        {
          type: 'function',
          function: {
            name: 'get_weather',
            description: 'Weather',
            parameters: { type: 'object' },
            strict: true,
          },
        },
      ],
    });
    expect(body?.messages).toEqual([
      { role: 'system', content: 'Be brief.' },
      { role: 'system', content: 'dev note' },
      { role: 'user', content: 'weather?' },
      {
        role: 'assistant',
        content: 'Checking.',
        tool_calls: [
          { id: 'c1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Oslo"}' } },
          { id: 'c2', type: 'function', function: { name: 'get_time', arguments: '{}' } },
        ],
      },
      { role: 'tool', tool_call_id: 'c1', content: '21C' },
      { role: 'tool', tool_call_id: 'c2', content: 'noon' },
    ]);
  });

  it('passes text deltas through as they arrive, with upstream usage', async () => {
    const turn = await collectTurn(provider().stream(request()));
    expect(turn.text).toBe('[mock] hello there upstream');
    expect(turn.deltas).toBe(4);
    expect(turn.usage).toEqual({ inputTokens: 3, outputTokens: 4 });
    expect(turn.stopReason).toBe('stop');
  });

  it('yields the first delta before the upstream has finished (no buffering)', async () => {
    mock.queue({ kind: 'text', text: 'a b', chunks: ['a ', 'b'] });
    mock.options.chunkDelayMs = 50;
    const iterator = provider().stream(request())[Symbol.asyncIterator]();
    const first = await iterator.next();
    expect(first.value).toEqual({ type: 'text_delta', text: 'a ' });
    // The upstream is still writing: its response has not finished when the first delta is in hand.
    expect(mock.received[0]?.finished).toBe(false);
    const rest: ModelEvent[] = [];
    for (let r = await iterator.next(); !r.done; r = await iterator.next()) rest.push(r.value);
    expect(rest.at(-1)).toMatchObject({ type: 'done', stopReason: 'stop' });
    expect(mock.received[0]?.finished).toBe(true);
  });

  it('assembles streamed tool calls and maps finish_reason tool_calls', async () => {
    mock.queue({
      kind: 'tool_calls',
      calls: [
        { id: 'call_a', name: 'get_weather', arguments: '{"city":"Oslo"}' },
        { id: 'call_b', name: 'get_time', arguments: '{"tz":"UTC"}' },
      ],
    });
    const turn = await collectTurn(provider().stream(request()));
    expect(turn.functionCalls).toEqual([
      { callId: 'call_a', name: 'get_weather', arguments: '{"city":"Oslo"}' },
      { callId: 'call_b', name: 'get_time', arguments: '{"tz":"UTC"}' },
    ]);
    expect(turn.stopReason).toBe('tool_calls');
  });

  it('maps length and content_filter, and counts usage itself when the upstream gives none', async () => {
    mock.options.omitUsage = true;
    const turn = await collectTurn(
      provider({ maxTokensField: 'max_completion_tokens' }).stream(request({ maxOutputTokens: 2 })),
    );
    expect(mock.chatRequests()[0]).toMatchObject({ max_completion_tokens: 2 });
    expect(turn.stopReason).toBe('length');
    expect(turn.usage.inputTokens).toBe(countRequestTokens(request()));
    expect(turn.usage.outputTokens).toBeGreaterThan(0);
    mock.queue({ kind: 'text', text: 'no', finishReason: 'content_filter' });
    expect((await collectTurn(provider().stream(request()))).stopReason).toBe('content_filter');
  });

  it('sends no Authorization header when no key is configured', async () => {
    await collectTurn(provider({ apiKey: undefined }).stream(request()));
    expect(mock.received[0]?.headers.authorization).toBeUndefined();
  });

  it('maps upstream errors: 429 and 503 retryable, 400 not, messages sanitized', async () => {
    const failWith = async (status: number, message: string) => {
      mock.queue({ kind: 'error', status, message, headers: { 'retry-after': '2' } });
      return collectTurn(provider().stream(request())).then(
        () => undefined,
        (error: unknown) => error,
      );
    };
    const limited = await failWith(429, 'slow down');
    expect(limited).toBeInstanceOf(UpstreamError);
    expect(limited).toMatchObject({
      code: 'rate_limited',
      retryable: true,
      retryAfterMs: 2000,
      upstreamStatus: 429,
    });
    expect(await failWith(503, 'overloaded')).toMatchObject({ code: 'upstream_error', retryable: true });
    const bad = await failWith(400, `bad key ${key} at https://user:pw@up.example/v1?api_key=zzz`);
    expect(bad).toMatchObject({ code: 'invalid_request', retryable: false, status: 400 });
    const message = (bad as Error).message;
    expect(message).toContain('openai/mock-model');
    expect(message).not.toContain(key);
    expect(message).not.toContain('pw@');
    expect(message).not.toContain('zzz');
    expect(await failWith(401, 'no')).toMatchObject({ code: 'upstream_error', retryable: false });
  });

  it('reports an unreachable server as a retryable upstream_error', async () => {
    const dead = new OpenAIProvider({
      endpointId: 'openai/dead',
      baseURL: 'http://127.0.0.1:1/v1',
      apiKey: key,
    });
    await expect(collectTurn(dead.stream(request()))).rejects.toMatchObject({
      code: 'upstream_error',
      retryable: true,
    });
  });

  it('never reports a stream cut off by an abort as finished', async () => {
    mock.queue({ kind: 'text', text: 'a b c', chunks: ['a ', 'b ', 'c'] });
    mock.options.chunkDelayMs = 200;
    const controller = new AbortController();
    const events: ModelEvent[] = [];
    const run = async () => {
      for await (const event of provider().stream(request({ signal: controller.signal }))) {
        events.push(event);
        controller.abort(new Error('cut off'));
      }
    };
    await expect(run()).rejects.toThrow('cut off');
    expect(events.map((e) => e.type)).toEqual(['text_delta']);
  });

  it('gives the abort reason back when the caller aborts, and the upstream sees the hang-up', async () => {
    mock.queue({ kind: 'hang' });
    const controller = new AbortController();
    const turn = collectTurn(provider().stream(request({ signal: controller.signal })));
    await expect.poll(() => mock.received.length).toBe(1);
    controller.abort(new Error('client went away'));
    await expect(turn).rejects.toThrow('client went away');
    await expect.poll(() => mock.received[0]?.closedEarly).toBe(true);
  });
});
