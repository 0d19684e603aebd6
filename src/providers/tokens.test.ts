import { describe, expect, it } from 'vitest';
import {
  countItemTokens,
  countRequestTokens,
  countTokens,
  encodingForModel,
  truncateToTokens,
} from './tokens.js';

describe('tokens', () => {
  it('counts with the shipped o200k and cl100k ranks (known reference counts)', () => {
    // Reference values from OpenAI's tiktoken for the same strings.
    expect(countTokens('hello world')).toBe(2);
    expect(countTokens('hello world', 'gpt-4')).toBe(2);
    expect(countTokens('')).toBe(0);
    expect(countTokens('tiktoken is great!', 'gpt-4o')).toBe(6);
    expect(countTokens('tiktoken is great!', 'gpt-3.5-turbo')).toBe(6);
  });

  it('picks cl100k for gpt-4 / gpt-3.5 and o200k for everything else', () => {
    expect(encodingForModel('gpt-4')).toBe('cl100k_base');
    expect(encodingForModel('openai/gpt-3.5-turbo')).toBe('cl100k_base');
    expect(encodingForModel('gpt-4o-mini')).toBe('o200k_base');
    expect(encodingForModel('gpt-4.1-mini')).toBe('o200k_base');
    expect(encodingForModel('anthropic.claude-3-haiku')).toBe('o200k_base');
    expect(encodingForModel(undefined)).toBe('o200k_base');
  });

  it('treats special-token text in user input as plain text', () => {
    expect(countTokens('<|endoftext|>')).toBeGreaterThan(1);
  });

  it('counts items and requests with per-message framing', () => {
    const item = { type: 'message' as const, role: 'user' as const, text: 'hello world' };
    expect(countItemTokens(item)).toBe(5);
    expect(countRequestTokens({ model: 'x', items: [item, item] })).toBe(3 + 5 + 5);
    expect(countRequestTokens({ model: 'x', instructions: 'hello world', items: [item] })).toBe(3 + 5 + 5);
  });

  it('truncates to a token budget without splitting characters', () => {
    expect(truncateToTokens('one two three four', 2)).toEqual({ text: 'one two', truncated: true });
    expect(truncateToTokens('short', 10)).toEqual({ text: 'short', truncated: false });
    const cut = truncateToTokens('😀😀😀😀', 3);
    expect(cut.truncated).toBe(true);
    expect(cut.text).not.toContain('\uFFFD');
  });
});
