import { describe, expect, it } from 'vitest';
import { collectTurn } from '../collect-turn.js';
import type { FunctionToolSpec, ModelItem, ModelRequest } from '../model-provider.js';
import { countTokens } from '../tokens.js';
import { extractiveSummary } from './extractive-summary.js';
import { LocalProvider } from './local-provider.js';
import { localPrefix } from './local-rules.js';

const provider = new LocalProvider();
const user = (text: string): ModelItem => ({ type: 'message', role: 'user', text });
const weather: FunctionToolSpec = {
  name: 'get_weather',
  parameters: { type: 'object', properties: { city: { type: 'string' } } },
};
const time: FunctionToolSpec = { name: 'get_time', parameters: { type: 'object', properties: {} } };
const run = (request: Partial<ModelRequest> & { items: ModelItem[] }) =>
  collectTurn(provider.stream({ model: 'echo', ...request }));

describe('local provider', () => {
  it('echoes the last user message, says it is not a language model, and streams several deltas', async () => {
    const turn = await run({
      items: [
        user('first'),
        { type: 'message', role: 'assistant', text: 'x' },
        user('The sky is blue today.'),
      ],
    });
    expect(turn.text).toBe(`${localPrefix} You said: The sky is blue today.`);
    expect(turn.text.startsWith('[enclave-local: not a language model]')).toBe(true);
    expect(turn.deltas).toBeGreaterThan(5);
    expect(turn.stopReason).toBe('stop');
    expect(turn.usage.outputTokens).toBe(countTokens(turn.text));
    expect(turn.usage.inputTokens).toBeGreaterThan(countTokens('firstxThe sky is blue today.'));
  });

  it('is deterministic', async () => {
    const request = { items: [user('call get_weather {"city":"Oslo"}')], tools: [weather] };
    expect(await run(request)).toEqual(await run(request));
  });

  it('calls a tool named by `call <tool>` with the JSON arguments that follow', async () => {
    const turn = await run({
      items: [user('Please call get_weather {"city": "Oslo"} and then call get_time')],
      tools: [weather, time],
    });
    expect(turn.stopReason).toBe('tool_calls');
    expect(turn.text).toBe('');
    expect(turn.functionCalls.map((c) => [c.name, c.arguments])).toEqual([
      ['get_weather', '{"city":"Oslo"}'],
      ['get_time', '{}'],
    ]);
    const ids = turn.functionCalls.map((c) => c.callId);
    expect(new Set(ids).size).toBe(2);
    expect(ids[0]).toMatch(/^call_[0-9a-f]{24}$/);
  });

  it('does not call an unknown tool, nor any tool when tool_choice is none', async () => {
    expect((await run({ items: [user('call launch_rockets')], tools: [weather] })).functionCalls).toEqual([]);
    const none = await run({ items: [user('call get_weather')], tools: [weather], toolChoice: 'none' });
    expect(none.functionCalls).toEqual([]);
    expect(none.text).toContain('You said: call get_weather');
  });

  it('forces a call for tool_choice required or {name}', async () => {
    const required = await run({
      items: [user('what time is it? use get_time')],
      tools: [weather, time],
      toolChoice: 'required',
    });
    expect(required.functionCalls.map((c) => c.name)).toEqual(['get_time']);
    const named = await run({
      items: [user('weather in {"city":"Rome"}')],
      tools: [weather, time],
      toolChoice: { name: 'get_weather' },
    });
    expect(named.functionCalls).toMatchObject([{ name: 'get_weather', arguments: '{"city":"Rome"}' }]);
  });

  it('answers a function_call_output with text using that output', async () => {
    const turn = await run({
      items: [
        user('call get_weather {"city":"Oslo"}'),
        { type: 'function_call', callId: 'c1', name: 'get_weather', arguments: '{"city":"Oslo"}' },
        { type: 'function_call_output', callId: 'c1', output: '{"temp":21}' },
      ],
      tools: [weather],
    });
    expect(turn.stopReason).toBe('stop');
    expect(turn.text).toBe(`${localPrefix} Tool results: get_weather returned {"temp":21}`);
  });

  it('stops at max_output_tokens with stopReason length', async () => {
    const turn = await run({
      items: [user('one two three four five six seven eight nine ten')],
      maxOutputTokens: 5,
    });
    expect(turn.stopReason).toBe('length');
    expect(turn.usage.outputTokens).toBe(5);
    expect(`${localPrefix} You said: one two`.startsWith(turn.text)).toBe(true);
  });

  it('summarizes the conversation or the given text on request', async () => {
    const turn = await run({
      items: [
        user('Enclave stores conversations. Enclave labels every item. Cats are nice.'),
        {
          type: 'message',
          role: 'assistant',
          text: `${localPrefix} You said: labels matter for Enclave items.`,
        },
        user('summarize'),
      ],
    });
    expect(turn.text.startsWith(`${localPrefix} Summary: `)).toBe(true);
    expect(turn.text).not.toContain('Cats are nice');
    expect(turn.text).toContain('Enclave labels every item.');
    const inline = await run({ items: [user('summarize: Short text.')] });
    expect(inline.text).toBe(`${localPrefix} Summary: Short text.`);
    const byInstructions = await run({ instructions: 'Write a summary.', items: [user('A. B.')] });
    expect(byInstructions.text).toBe(`${localPrefix} Summary: A. B.`);
  });

  it('stops when its signal aborts', async () => {
    const controller = new AbortController();
    const events = provider.stream({
      model: 'echo',
      items: [user('a b c d e f g')],
      signal: controller.signal,
    });
    const seen: string[] = [];
    await expect(
      (async () => {
        for await (const event of events) {
          if (event.type === 'text_delta') seen.push(event.text);
          if (seen.length === 2) controller.abort();
        }
      })(),
    ).rejects.toThrow();
    expect(seen).toHaveLength(2);
  });
});

describe('extractiveSummary', () => {
  it('keeps the most representative sentences in order', () => {
    const text = 'Alpha beta gamma. Beta gamma delta. Unrelated words here. Gamma beta again.';
    expect(extractiveSummary([text], 2)).toBe('Alpha beta gamma. Beta gamma delta.');
    expect(extractiveSummary(['One.'], 3)).toBe('One.');
  });
});
