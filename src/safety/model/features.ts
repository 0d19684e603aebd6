/**
 * Hashed features for the in-process classifier: word unigrams and bigrams plus character 3–5-grams of each
 * word (with boundary marks, so "kill" and "skill" share only inner grams). Character grams make the model
 * robust to misspellings and leetspeak; words and bigrams carry intent ("how to make", "without getting").
 * Hashing keeps the model a fixed size with no vocabulary file. Signed hashing halves collision bias.
 */
export interface FeatureVector {
  /** Bucket indices, each in [0, dims). */
  index: Int32Array;
  /** L2-normalised values (signed by the hash). */
  value: Float32Array;
}

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
const WORD = /[\p{L}\p{N}]+(?:['’][\p{L}]+)*/gu;
const MAX_CHARS = 20_000;

const mix = (h: number, x: number): number => Math.imul(h ^ x, FNV_PRIME) >>> 0;

/** Finalizer (murmur3 fmix32) so low bits used as the bucket are well distributed. */
const fmix = (h: number): number => {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
};

export class Featurizer {
  private readonly scratch: Float32Array;
  private readonly touched: Int32Array;
  private count = 0;
  private readonly mask: number;

  constructor(readonly dims: number) {
    if (dims <= 0 || (dims & (dims - 1)) !== 0) throw new Error('dims must be a power of two');
    this.mask = dims - 1;
    this.scratch = new Float32Array(dims);
    this.touched = new Int32Array(dims);
  }

  /** Lower-cased, NFKC-normalised words of the text (the first 20k characters: longer texts are chunked upstream). */
  static words(text: string): string[] {
    return text.slice(0, MAX_CHARS).normalize('NFKC').toLowerCase().match(WORD) ?? [];
  }

  featurize(text: string): FeatureVector {
    const words = Featurizer.words(text);
    let prev = 0;
    for (let w = 0; w < words.length; w++) {
      const word = words[w] ?? '';
      let h = mix(FNV_OFFSET, 1);
      for (let i = 0; i < word.length; i++) h = mix(h, word.charCodeAt(i));
      this.add(fmix(h), 1);
      if (w > 0) this.add(fmix(mix(mix(prev, 2), h)), 1);
      prev = h;
      this.charGrams(word);
    }
    return this.collect();
  }

  private charGrams(word: string): void {
    const n = word.length + 2;
    const code = (i: number): number => (i === 0 || i === n - 1 ? 32 : word.charCodeAt(i - 1));
    for (let start = 0; start + 3 <= n; start++) {
      let h = mix(FNV_OFFSET, 3);
      for (let len = 1; len <= 5 && start + len <= n; len++) {
        h = mix(h, code(start + len - 1));
        // Grams are down-weighted: a word has many, and they should refine rather than dominate word features.
        if (len >= 3) this.add(fmix(mix(h, len)), 0.5);
      }
    }
  }

  private add(hash: number, weight: number): void {
    const index = hash & this.mask;
    const signed = hash & 0x80000000 ? -weight : weight;
    if (this.scratch[index] === 0) this.touched[this.count++] = index;
    this.scratch[index] = (this.scratch[index] ?? 0) + signed;
    // A bucket whose signed sum cancels to exactly 0 stays in `touched`; collect() skips it.
  }

  private collect(): FeatureVector {
    let norm = 0;
    const index: number[] = [];
    const value: number[] = [];
    for (let i = 0; i < this.count; i++) {
      const at = this.touched[i] ?? 0;
      const v = this.scratch[at] ?? 0;
      this.scratch[at] = 0;
      if (v === 0) continue;
      // Sublinear term frequency: repeating a word should not outweigh saying it once.
      const s = Math.sign(v) * Math.log1p(Math.abs(v));
      index.push(at);
      value.push(s);
      norm += s * s;
    }
    this.count = 0;
    const inv = norm > 0 ? 1 / Math.sqrt(norm) : 0;
    return { index: Int32Array.from(index), value: Float32Array.from(value, (v) => v * inv) };
  }
}
