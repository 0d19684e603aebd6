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

describe('Featurizer options', () => {
  it('divides short texts by the norm floor instead of their own norm', () => {
    const floor = new Featurizer(1 << 12, { gramWeight: 0.25, minNorm: 2.5, lengthPrior: false });
    const norm = (text: string): number =>
      Array.from(floor.featurize(text).value).reduce((s, x) => s + x * x, 0);
    expect(norm('ok')).toBeLessThan(0.2);
    const long = 'please summarise the attached quarterly report for the board in five short bullet points';
    expect(norm(long)).toBeCloseTo(1, 5);
  });
  it('adds one length-band feature of value 1 outside the normalisation', () => {
    const plain = new Featurizer(1 << 12, { gramWeight: 0.25, minNorm: 0, lengthPrior: false });
    const banded = new Featurizer(1 << 12, { gramWeight: 0.25, minNorm: 0, lengthPrior: true });
    const a = plain.featurize('kill the process');
    const b = banded.featurize('kill the process');
    expect(b.index.length).toBe(a.index.length + 1);
    expect(b.value[b.value.length - 1]).toBe(1);
    expect(Array.from(b.value.slice(0, -1))).toEqual(Array.from(a.value));
    // Same band for texts of the same length, another band for a much longer text.
    const band = (t: string): number => banded.featurize(t).index.at(-1) ?? -1;
    expect(band('stop the job')).toBe(band('kill the process'));
    expect(band('one two three four five six seven eight nine ten eleven twelve')).not.toBe(
      band('kill the process'),
    );
  });
});
