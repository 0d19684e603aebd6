import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { blindIndexKey, blindToken, blindTokens, normalizeTerms } from './blind-index.js';

describe('blind-index tokens', () => {
  const key = blindIndexKey(randomBytes(32));

  it('normalizes case, width and punctuation before keying', () => {
    expect(normalizeTerms('Ｈｅｌｌｏ, World! café-42')).toEqual(['hello', 'world', 'café', '42']);
    expect(blindTokens(key, 'HELLO world')).toEqual(blindTokens(key, 'hello, World.'));
  });

  it('gives distinct, deduplicated tokens that hide the terms', () => {
    const tokens = blindTokens(key, 'alpha beta alpha');
    expect(tokens).toHaveLength(2);
    expect(tokens[0]).toBe(blindToken(key, 'alpha'));
    expect(tokens.join(' ')).not.toMatch(/alpha|beta/);
    expect(tokens[0]).toMatch(/^[A-Za-z0-9_-]{22}$/);
  });

  it('depends on the key: another tenant or purpose gets other tokens', () => {
    const base = randomBytes(32);
    expect(blindTokens(blindIndexKey(base), 'alpha')).not.toEqual(
      blindTokens(blindIndexKey(randomBytes(32)), 'alpha'),
    );
    expect(blindTokens(blindIndexKey(base, 'search'), 'alpha')).not.toEqual(
      blindTokens(blindIndexKey(base, 'memory'), 'alpha'),
    );
  });
});
