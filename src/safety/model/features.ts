/**
 * Hashed features for the in-process classifier: word unigrams and bigrams plus character 3–5-grams of each
 * word (with boundary marks, so "kill" and "skill" share only inner grams). Character grams make the model
 * robust to misspellings and leetspeak; words and bigrams carry intent ("how to make", "without getting").
 * Hashing keeps the model a fixed size with no vocabulary file. Signed hashing halves collision bias.
 *
 * The text is read once, char code by char code: words are hashed as they are read and their grams from a
 * small code buffer, so no word strings, regex matches or per-feature arrays are allocated (the featurizer
 * was the largest cost of `classify`).
 */
export interface FeatureVector {
  /** Bucket indices, each in [0, dims). */
  index: Int32Array;
  /** L2-normalised values (signed by the hash). */
  value: Float32Array;
}

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
const MAX_CHARS = 20_000;
/** Grams come from a word's first characters only: long tokens (URLs, base64, hashes) would flood the vector. */
const MAX_GRAM_WORD = 24;
const NON_ASCII = /[^\p{ASCII}]/u;
const WORD_CHAR = /[\p{L}\p{N}]/u;
const LETTER = /\p{L}/u;
const APOSTROPHE = 39;
const RIGHT_QUOTE = 0x2019;

/** ASCII class table: 1 letter, 2 digit, 0 other. Upper case is folded below, so only lower case is listed. */
const ascii = new Uint8Array(128);
for (let c = 97; c <= 122; c++) ascii[c] = 1;
for (let c = 65; c <= 90; c++) ascii[c] = 1;
for (let c = 48; c <= 57; c++) ascii[c] = 2;

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

/** Lazily filled class cache for the rest of the BMP (value + 1; 0 = not yet known). */
const bmp = new Uint8Array(0x10000);

/** 1 letter, 2 digit (or other word char), 0 neither, for a code point of already lower-cased text. */
const classOf = (cp: number): number => {
  if (cp < 128) return ascii[cp] ?? 0;
  const known = cp <= 0xffff ? (bmp[cp] ?? 0) : 0;
  if (known > 0) return known - 1;
  const ch = String.fromCodePoint(cp);
  const cls = LETTER.test(ch) ? 1 : WORD_CHAR.test(ch) ? 2 : 0;
  if (cp <= 0xffff) bmp[cp] = cls + 1;
  return cls;
};

export class Featurizer {
  private readonly scratch: Float32Array;
  private readonly touched: Int32Array;
  private readonly outValue: Float32Array;
  private readonly gram = new Int32Array(MAX_GRAM_WORD + 2);
  private count = 0;
  private readonly mask: number;

  constructor(readonly dims: number) {
    if (dims <= 0 || (dims & (dims - 1)) !== 0) throw new Error('dims must be a power of two');
    this.mask = dims - 1;
    this.scratch = new Float32Array(dims);
    this.touched = new Int32Array(dims);
    this.outValue = new Float32Array(dims);
  }

  featurize(raw: string): FeatureVector {
    let text = raw.length > MAX_CHARS ? raw.slice(0, MAX_CHARS) : raw;
    if (NON_ASCII.test(text)) text = text.normalize('NFKC').toLowerCase();
    const n = text.length;
    let prev = 0;
    let words = 0;
    let i = 0;
    while (i < n) {
      let cp = text.charCodeAt(i);
      if (cp >= 0xd800 && cp <= 0xdbff) cp = text.codePointAt(i) ?? cp;
      if (classOf(cp) === 0) {
        i += cp > 0xffff ? 2 : 1;
        continue;
      }
      // A word: letters and digits, joined by an apostrophe only when a letter follows ("don't", "o’clock").
      let h = mix(FNV_OFFSET, 1);
      let len = 0;
      while (i < n) {
        let c = text.charCodeAt(i);
        if (c >= 0xd800 && c <= 0xdbff) c = text.codePointAt(i) ?? c;
        if (c === APOSTROPHE || c === RIGHT_QUOTE) {
          const next = text.charCodeAt(i + 1);
          if (!(i + 1 < n && classOf(next) === 1)) break;
        } else if (classOf(c) === 0) break;
        if (c >= 65 && c <= 90) c += 32;
        h = mix(h, c);
        if (len < MAX_GRAM_WORD) this.gram[len + 1] = c;
        len++;
        i += c > 0xffff ? 2 : 1;
      }
      this.add(fmix(h), 1);
      if (words > 0) this.add(fmix(mix(mix(prev, 2), h)), 1);
      prev = h;
      words++;
      this.charGrams(Math.min(len, MAX_GRAM_WORD));
    }
    return this.collect();
  }

  /** Character 3–5-grams over the buffered word with a space mark at each end, hashed incrementally. */
  private charGrams(len: number): void {
    const g = this.gram;
    const n = len + 2;
    g[0] = 32;
    g[n - 1] = 32;
    for (let start = 0; start + 3 <= n; start++) {
      let h = mix(FNV_OFFSET, 3);
      h = mix(h, g[start] ?? 0);
      h = mix(h, g[start + 1] ?? 0);
      const end = Math.min(n, start + 5);
      for (let k = start + 2; k < end; k++) {
        h = mix(h, g[k] ?? 0);
        // Grams are down-weighted: a word has many, and they should refine rather than dominate word features.
        this.add(fmix(mix(h, k - start + 1)), 0.5);
      }
    }
  }

  private add(hash: number, weight: number): void {
    const index = hash & this.mask;
    const s = this.scratch;
    if (s[index] === 0) this.touched[this.count++] = index;
    s[index] = (s[index] ?? 0) + (hash & 0x80000000 ? -weight : weight);
    // A bucket whose signed sum cancels to exactly 0 stays in `touched`; collect() skips it.
  }

  private collect(): FeatureVector {
    let norm = 0;
    let k = 0;
    const touched = this.touched;
    const out = this.outValue;
    for (let i = 0; i < this.count; i++) {
      const at = touched[i] ?? 0;
      const v = this.scratch[at] ?? 0;
      this.scratch[at] = 0;
      if (v === 0) continue;
      // Sublinear term frequency: repeating a word should not outweigh saying it once.
      const s = v > 0 ? Math.log1p(v) : -Math.log1p(-v);
      touched[k] = at;
      out[k++] = s;
      norm += s * s;
    }
    this.count = 0;
    const inv = norm > 0 ? 1 / Math.sqrt(norm) : 0;
    const value = out.slice(0, k);
    for (let i = 0; i < k; i++) value[i] = (value[i] ?? 0) * inv;
    return { index: touched.slice(0, k), value };
  }
}
