import { describe, expect, it } from 'vitest';
import type { ModelItem } from '../providers/index.js';
import { fitContext } from './context-window.js';

const msg = (text: string): ModelItem => ({ type: 'message', role: 'user', text });
const fit = { model: 'm', tools: [], maxOutputTokens: undefined };

describe('fitContext', () => {
  const long = 'word '.repeat(60);
  const items: ModelItem[] = [
    msg(long),
    { type: 'function_call', callId: 'c1', name: 'f', arguments: '{}' },
    { type: 'function_call_output', callId: 'c1', output: long },
    msg('last question'),
  ];

  it('keeps a context that fits untouched', () => {
    expect(fitContext(items, { ...fit, contextWindow: 10_000, truncation: 'disabled' })).toBe(items);
  });

  it('refuses an oversized context when truncation is disabled', () => {
    expect(() => fitContext(items, { ...fit, contextWindow: 100, truncation: 'disabled' })).toThrow(
      /exceeds the context window/,
    );
  });

  it('drops the oldest items and never keeps a tool output without its call', () => {
    // Room for the call, its output and the question: only the first message goes.
    expect(fitContext(items, { ...fit, contextWindow: 100, truncation: 'auto' })).toEqual(items.slice(1));
    // Room for the question only: dropping the call drops its output with it.
    expect(fitContext(items, { ...fit, contextWindow: 40, truncation: 'auto' })).toEqual([
      msg('last question'),
    ]);
  });

  it('always keeps the newest item', () => {
    expect(fitContext([msg(long), msg(long)], { ...fit, contextWindow: 5, truncation: 'auto' })).toEqual([
      msg(long),
    ]);
  });
});
