import type { LinearModel } from './linear-model.js';
import type { TrainRow } from './train-linear.js';

/** Thresholds outside this range are not trusted from a small validation split. */
const MIN_T = 0.2;
const MAX_T = 0.9;
/** Heads with fewer validation positives or negatives than this keep their trained bias. */
const MIN_CLASS = 5;

export interface HeadCalibration {
  threshold: number;
  shift: number;
  positives: number;
  negatives: number;
}

const logit = (p: number): number => Math.log(p / (1 - p));

/**
 * Moves each head's bias so its best threshold (Youden's J) on a validation split (carved from training data, never
 * from the evaluation split) lands at 0.5, where policies cut. Class-balanced training leaves biases that
 * score unfamiliar text (tables, receipts, code) as positive — nothing in it looked benign — and per-head
 * thresholds fix that without changing any policy.
 */
export function calibrateBiases(model: LinearModel, validation: readonly TrainRow[]): HeadCalibration[] {
  const out: HeadCalibration[] = [];
  const scores = validation.map((r) => model.predict(r.x));
  for (let h = 0; h < model.heads; h++) {
    const rows: { s: number; y: number }[] = [];
    validation.forEach((r, i) => {
      const y = r.y[h] ?? -1;
      if (y >= 0) rows.push({ s: scores[i]?.[h] ?? 0, y });
    });
    const positives = rows.filter((r) => r.y === 1).length;
    const negatives = rows.length - positives;
    if (positives < MIN_CLASS || negatives < MIN_CLASS) {
      out.push({ threshold: 0.5, shift: 0, positives, negatives });
      continue;
    }
    let best = { j: -2, t: 0.5 };
    for (let t = MIN_T; t <= MAX_T + 1e-9; t += 0.01) {
      let tp = 0;
      let fp = 0;
      for (const r of rows) if (r.s >= t) r.y === 1 ? tp++ : fp++;
      // Youden's J (recall minus false-positive rate) does not depend on the validation split's class mix,
      // which is the training mix, not any deployment's; ties go to the higher threshold.
      const j = tp / positives - fp / negatives;
      if (j >= best.j) best = { j, t };
    }
    const shift = -logit(best.t);
    model.bias[h] = (model.bias[h] ?? 0) + shift;
    out.push({ threshold: Math.round(best.t * 100) / 100, shift, positives, negatives });
  }
  return out;
}
