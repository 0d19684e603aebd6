import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  fakeAwsCredentials,
  startMockBedrock,
  type MockBedrock,
} from '../../../test/support/mock-bedrock.js';
import { collectTurn } from '../collect-turn.js';
import type { ModelRequest } from '../model-provider.js';
import { BedrockProvider } from './bedrock-provider.js';

let mock: MockBedrock;
beforeAll(async () => {
  mock = await startMockBedrock();
});
afterAll(() => mock.close());
beforeEach(() => {
  mock.received.length = 0;
});

const modelId = 'anthropic.claude-3-haiku-20240307-v1:0';
const provider = (streaming = true) =>
  new BedrockProvider({
    endpointId: `bedrock/${modelId}`,
    region: 'us-east-1',
    endpoint: mock.url,
    credentials: fakeAwsCredentials,
    streaming,
  });
const request = (overrides: Partial<ModelRequest> = {}): ModelRequest => ({
  model: modelId,
  items: [{ type: 'message', role: 'user', text: 'hello bedrock' }],
  ...overrides,
});

describe.each([
  ['ConverseStream', true],
  ['Converse', false],
])('BedrockProvider over %s', (_name, streaming) => {
  it('maps system prompts, merged tool history, tools and inference config', async () => {
    await collectTurn(
      provider(streaming).stream(
        request({
          instructions: 'Be brief.',
          items: [
            { type: 'message', role: 'developer', text: 'dev note' },
            { type: 'message', role: 'user', text: 'weather and time?' },
            { type: 'function_call', callId: 't1', name: 'get_weather', arguments: '{"city":"Oslo"}' },
            { type: 'function_call', callId: 't2', name: 'get_time', arguments: '{}' },
            { type: 'function_call_output', callId: 't1', output: '21C' },
            { type: 'function_call_output', callId: 't2', output: 'noon' },
          ],
          tools: [{ name: 'get_weather', description: 'Weather', parameters: { type: 'object' } }],
          toolChoice: 'required',
          maxOutputTokens: 64,
          temperature: 0.5,
        }),
      ),
    );
    const [received] = mock.received;
    expect(received?.operation).toBe(streaming ? 'converse-stream' : 'converse');
    expect(received?.modelId).toBe(modelId);
    expect(received?.headers.authorization).toContain('AKIDFAKEFAKEFAKE');
    expect(received?.body).toEqual({
      system: [{ text: 'Be brief.' }, { text: 'dev note' }],
      messages: [
        { role: 'user', content: [{ text: 'weather and time?' }] },
        {
          role: 'assistant',
          content: [
            { toolUse: { toolUseId: 't1', name: 'get_weather', input: { city: 'Oslo' } } },
            { toolUse: { toolUseId: 't2', name: 'get_time', input: {} } },
          ],
        },
        {
          role: 'user',
          content: [
            { toolResult: { toolUseId: 't1', content: [{ text: '21C' }] } },
            { toolResult: { toolUseId: 't2', content: [{ text: 'noon' }] } },
          ],
        },
      ],
      toolConfig: {
        tools: [
          {
            toolSpec: {
              name: 'get_weather',
              description: 'Weather',
              inputSchema: { json: { type: 'object' } },
            },
          },
        ],
        toolChoice: { any: {} },
      },
      inferenceConfig: { maxTokens: 64, temperature: 0.5 },
    });
  });

  it('returns text with usage and stop reason', async () => {
    mock.queue({ kind: 'text', text: 'Hi there you', usage: { inputTokens: 5, outputTokens: 3 } });
    const turn = await collectTurn(provider(streaming).stream(request()));
    expect(turn.text).toBe('Hi there you');
    expect(turn.deltas).toBe(streaming ? 3 : 1);
    expect(turn.usage).toEqual({ inputTokens: 5, outputTokens: 3 });
    expect(turn.stopReason).toBe('stop');
  });

  it('returns tool calls', async () => {
    mock.queue({
      kind: 'tool_use',
      text: 'Let me check.',
      calls: [{ toolUseId: 'tu1', name: 'get_weather', input: { city: 'Oslo' } }],
    });
    const turn = await collectTurn(
      provider(streaming).stream(request({ tools: [{ name: 'get_weather', parameters: {} }] })),
    );
    expect(turn.text).toBe('Let me check.');
    expect(turn.functionCalls).toEqual([
      { callId: 'tu1', name: 'get_weather', arguments: '{"city":"Oslo"}' },
    ]);
    expect(turn.stopReason).toBe('tool_calls');
  });

  it.each([
    ['max_tokens', 'length'],
    ['model_context_window_exceeded', 'length'],
    ['content_filtered', 'content_filter'],
    ['guardrail_intervened', 'content_filter'],
    ['stop_sequence', 'stop'],
  ])('maps stop reason %s to %s', async (reason, expected) => {
    mock.queue({ kind: 'text', text: 'x', stopReason: reason });
    expect((await collectTurn(provider(streaming).stream(request()))).stopReason).toBe(expected);
  });

  it('maps throttling to retryable rate_limited and validation to a non-retryable invalid_request', async () => {
    mock.queue({ kind: 'error', status: 429, type: 'ThrottlingException', message: 'Too many requests' });
    await expect(collectTurn(provider(streaming).stream(request()))).rejects.toMatchObject({
      code: 'rate_limited',
      retryable: true,
    });
    mock.queue({
      kind: 'error',
      status: 400,
      type: 'ValidationException',
      message: 'messages: bad role order',
    });
    const bad = collectTurn(provider(streaming).stream(request()));
    await expect(bad).rejects.toMatchObject({ code: 'invalid_request', retryable: false });
    await expect(bad).rejects.toThrow(/bad role order/);
    mock.queue({ kind: 'error', status: 503, type: 'ServiceUnavailableException' });
    await expect(collectTurn(provider(streaming).stream(request()))).rejects.toMatchObject({
      code: 'upstream_error',
      retryable: true,
    });
  });
});

describe('BedrockProvider stream exceptions', () => {
  it('maps an exception frame mid-stream after the deltas already passed on', async () => {
    mock.queue({
      kind: 'stream_exception',
      type: 'modelStreamErrorException',
      message: 'model broke',
      afterChunks: 2,
    });
    const seen: string[] = [];
    const run = async () => {
      for await (const event of provider().stream(request()))
        if (event.type === 'text_delta') seen.push(event.text);
    };
    await expect(run()).rejects.toMatchObject({ code: 'upstream_error', retryable: true });
    expect(seen).toEqual(['part0 ', 'part1 ']);
  });

  it('refuses function-call arguments that are not a JSON object', async () => {
    const items = [{ type: 'function_call' as const, callId: 'x', name: 'f', arguments: '[1]' }];
    await expect(collectTurn(provider().stream(request({ items })))).rejects.toMatchObject({
      code: 'invalid_request',
    });
    expect(mock.received).toHaveLength(0);
  });
});
