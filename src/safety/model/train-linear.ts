import type { FeatureVector } from './features.js';
import { LinearModel } from './linear-model.js';

/** One training example: features and a target per head (1 positive, 0 negative, -1 unknown → no gradient). */
export interface TrainRow {
  x: FeatureVector;
  y: Int8Array;
  /** Importance (e.g. reviewed decisions count more than weak labels). */
  weight: number;
}

export interface TrainOptions {
  dims: number;
  heads: number;
  epochs: number;
  learningRate: number;
  l2: number;
  seed: number;
}

export const defaultTrainOptions = { epochs: 12, learningRate: 0.5, l2: 1e-6, seed: 7 } as const;

/** Deterministic PRNG (mulberry32) so the same data and seed give byte-identical weights. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Per-head logistic regression by AdaGrad (per-weight step sizes suit sparse hashed features: rare n-grams
 * keep learning while frequent ones settle). Each head is class-balanced, so a head with few positives is
 * not pushed to always answer "no".
 */
export function trainLinear(rows: readonly TrainRow[], options: TrainOptions): LinearModel {
  const { dims, heads: H } = options;
  const model = LinearModel.empty(dims, H);
  const g2w = new Float32Array(dims * H);
  const g2b = new Float32Array(H);
  const pos = new Float64Array(H);
  const neg = new Float64Array(H);
  for (const r of rows) {
    for (let h = 0; h < H; h++) {
      if (r.y[h] === 1) pos[h] = pos[h]! + r.weight;
      else if (r.y[h] === 0) neg[h] = neg[h]! + r.weight;
    }
  }
  const wPos = new Float64Array(H);
  const wNeg = new Float64Array(H);
  for (let h = 0; h < H; h++) {
    const total = pos[h]! + neg[h]!;
    wPos[h] = pos[h]! > 0 ? total / (2 * pos[h]!) : 0;
    wNeg[h] = neg[h]! > 0 ? total / (2 * neg[h]!) : 0;
  }
  const random = prng(options.seed);
  const order = rows.map((_, i) => i);
  const z = new Float32Array(H);
  const grad = new Float32Array(H);
  for (let epoch = 0; epoch < options.epochs; epoch++) {
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    for (const k of order) {
      const row = rows[k]!;
      model.logits(row.x, z);
      for (let h = 0; h < H; h++) {
        const y = row.y[h]!;
        grad[h] = y < 0 ? 0 : (1 / (1 + Math.exp(-z[h]!)) - y) * row.weight * (y === 1 ? wPos[h]! : wNeg[h]!);
        if (grad[h] !== 0) {
          g2b[h] = g2b[h]! + grad[h]! * grad[h]!;
          model.bias[h] = model.bias[h]! - (options.learningRate * grad[h]!) / Math.sqrt(g2b[h]! + 1e-8);
        }
      }
      for (let i = 0; i < row.x.index.length; i++) {
        const base = row.x.index[i]! * H;
        const v = row.x.value[i]!;
        for (let h = 0; h < H; h++) {
          if (grad[h] === 0) continue;
          const at = base + h;
          const g = grad[h]! * v + options.l2 * model.weights[at]!;
          g2w[at] = g2w[at]! + g * g;
          model.weights[at] = model.weights[at]! - (options.learningRate * g) / Math.sqrt(g2w[at]! + 1e-8);
        }
      }
    }
  }
  return model;
}
