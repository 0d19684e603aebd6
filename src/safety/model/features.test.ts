import { describe, expect, it } from 'vitest';
import { Featurizer } from './features.js';

const keys = (f: Featurizer, text: string): string =>
  Array.from(f.featurize(text).index)
    .sort((a, b) => a - b)
    .join();

describe('Featurizer', () => {
  const f = new Featurizer(1 << 12);
  it('folds case, punctuation and compatibility forms, and joins apostrophes only before a letter', () => {
    expect(keys(f, "Don't KILL it!")).toBe(keys(f, "don't kill it"));
    expect(keys(f, 'ｋｉｌｌ')).toBe(keys(f, 'kill'));
    expect(keys(f, "rock' n")).toBe(keys(f, 'rock n'));
  });
  it('returns an L2-normalised vector and nothing for text without words', () => {
    const v = f.featurize('how do I kill a python process');
    const norm = Array.from(v.value).reduce((s, x) => s + x * x, 0);
    expect(norm).toBeCloseTo(1, 5);
    expect(f.featurize(' ... !!! ').index.length).toBe(0);
  });
});
