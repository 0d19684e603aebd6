import { harmCategories, type HarmCategory } from '../taxonomy.js';
import type { FeatureVector } from './features.js';

/**
 * Heads of the shipped model: `unsafe` (any harm, trained on every labelled row), one per harm category
 * (trained only on rows whose category is known), `indirect` (an instruction planted in data, used on
 * untrusted surfaces only, trained at sentence level) and `output` (harmful model output, used on the
 * `output` surface: a refusal repeats the harm words of the request, so the input head misreads outputs).
 * `output` is last so a model saved before it existed still loads (its output surface falls back to `unsafe`).
 */
export const modelHeads = ['unsafe', ...harmCategories, 'indirect', 'output'] as const;
/** Heads every loadable model has (the prefix of modelHeads before `output` was added). */
export const requiredHeads = modelHeads.length - 1;
export type ModelHead = (typeof modelHeads)[number];
export const headIndex = (h: ModelHead): number => modelHeads.indexOf(h);
export const categoryHeads: readonly HarmCategory[] = harmCategories;

/** Shipped int8 weights with a per-head scale (what model-file.ts stores). */
export interface QuantizedWeights {
  q: Int8Array;
  scale: Float32Array;
}

/**
 * Per-head logistic regression over hashed features; weights are feature-major so one row serves all heads.
 * A loaded model scores from its int8 weights: real text touches hundreds of random rows, and 2 MB of int8
 * stays in cache where 8 MB of float32 did not (scoring, not hashing, was then the cost on real text).
 */
export class LinearModel {
  readonly heads: number;

  constructor(
    readonly dims: number,
    readonly weights: Float32Array,
    readonly bias: Float32Array,
    private readonly quantized?: QuantizedWeights,
  ) {
    this.heads = bias.length;
    if (weights.length !== dims * this.heads) throw new Error('weights do not match dims × heads');
    if (quantized && quantized.q.length !== weights.length) throw new Error('int8 weights do not match');
  }

  static empty(dims: number, heads: number = modelHeads.length): LinearModel {
    return new LinearModel(dims, new Float32Array(dims * heads), new Float32Array(heads));
  }

  /** Raw scores (logits) per head. */
  logits(x: FeatureVector, out = new Float32Array(this.heads)): Float32Array {
    if (this.quantized) return this.quantizedLogits(x, this.quantized, out);
    out.set(this.bias);
    const H = this.heads;
    for (let i = 0; i < x.index.length; i++) {
      const base = (x.index[i] ?? 0) * H;
      const v = x.value[i] ?? 0;
      for (let h = 0; h < H; h++) out[h] = (out[h] ?? 0) + (this.weights[base + h] ?? 0) * v;
    }
    return out;
  }

  private quantizedLogits(x: FeatureVector, w: QuantizedWeights, out: Float32Array): Float32Array {
    const H = this.heads;
    const { q, scale } = w;
    out.fill(0);
    for (let i = 0; i < x.index.length; i++) {
      const base = x.index[i]! * H;
      const v = x.value[i]!;
      for (let h = 0; h < H; h++) out[h] = out[h]! + q[base + h]! * v;
    }
    for (let h = 0; h < H; h++) out[h] = this.bias[h]! + out[h]! * scale[h]!;
    return out;
  }

  /** Probabilities per head. */
  predict(x: FeatureVector): Float32Array {
    const z = this.logits(x);
    for (let h = 0; h < z.length; h++) z[h] = sigmoid(z[h] ?? 0);
    return z;
  }
}

export const sigmoid = (z: number): number =>
  z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z));
