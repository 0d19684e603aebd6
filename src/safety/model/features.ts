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

/** Options a model was trained with; recorded in model.json so scoring featurizes exactly as training did. */
export interface FeatureOptions {
  /** Weight of each character gram relative to a word (1). Models before this option existed used 0.5. */
  gramWeight: number;
  /**
   * The smallest norm a vector is divided by (0 = plain L2 normalisation). Plain normalisation gives a
   * one-word text ("ok", "ping") the full weight of that word, so one unlucky n-gram decided it; dividing
   * short texts by a floor leaves them near the bias (the prior) unless their words are strong evidence.
   */
  minNorm: number;
  /**
   * Adds one feature naming the text's length band (in words), so the model learns a prior per length
   * instead of one bias for all: ordinary short inputs ("ok", "test", "thanks") are nearly always benign,
   * and with one shared bias every empty-of-evidence text sat at the class-balanced prior (≈ 0.33).
   */
  lengthPrior: boolean;
}
export const legacyFeatureOptions: FeatureOptions = { gramWeight: 0.5, minNorm: 0, lengthPrior: false };

/** Upper bounds (inclusive, in words) of the length bands of the length-prior feature. */
const LENGTH_BANDS = [1, 2, 4, 8, 16, 32, 64];

export class Featurizer {
  private readonly scratch: Float32Array;
  private readonly touched: Int32Array;
  private readonly outValue: Float32Array;
  private readonly gram = new Int32Array(MAX_GRAM_WORD + 2);
  private count = 0;
  private readonly mask: number;

  private readonly gramWeight: number;
  private readonly minNorm: number;
  private readonly lengthPrior: boolean;

  constructor(
    readonly dims: number,
    options: FeatureOptions = legacyFeatureOptions,
  ) {
    if (dims <= 0 || (dims & (dims - 1)) !== 0) throw new Error('dims must be a power of two');
    this.gramWeight = options.gramWeight;
    this.minNorm = options.minNorm;
    this.lengthPrior = options.lengthPrior;
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
    if (!this.lengthPrior) return this.collect(-1);
    let band = 0;
    while (band < LENGTH_BANDS.length && words > (LENGTH_BANDS[band] ?? 0)) band++;
    return this.collect(fmix(mix(mix(FNV_OFFSET, 4), band)) & this.mask);
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
        this.add(fmix(mix(h, k - start + 1)), this.gramWeight);
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

  /**
   * Sublinear, normalised values of the touched buckets, plus (when `extra` >= 0) one feature of value 1
   * outside the normalisation: the length band, a per-length bias that a one-word text cannot dilute. It may
   * share a bucket with a word; a repeated index simply adds in the dot product and in training.
   */
  private collect(extra: number): FeatureVector {
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
    const inv = norm > 0 ? 1 / Math.max(Math.sqrt(norm), this.minNorm) : 0;
    const n = extra >= 0 ? k + 1 : k;
    const value = out.slice(0, n);
    for (let i = 0; i < k; i++) value[i] = (value[i] ?? 0) * inv;
    const index = touched.slice(0, n);
    if (extra >= 0) {
      index[k] = extra;
      value[k] = 1;
    }
    return { index, value };
  }
}
