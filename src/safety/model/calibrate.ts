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
 * Moves the bias of the given heads so their best threshold on a validation split (carved from training
 * data, never from the evaluation split) lands at 0.5, where policies cut. "Best" is the highest recall at
 * a validation false-positive rate within the head's budget (`budgets`: head index → rate). Used for the
 * sentence-level `indirect` head (class-balanced training left it a large positive bias, so a sentence with
 * no familiar n-gram scored as an injection, and its text score is a maximum over every sentence of a
 * document, which multiplies per-sentence false positives — hence a 1 % per-unit budget) and for `unsafe`
 * (class balancing sets its prior at one harmful text in two; deployments see far fewer). Other heads keep
 * the policy's 0.5 on class-balanced scores.
 */
export function calibrateBiases(
  model: LinearModel,
  validation: readonly TrainRow[],
  budgets: ReadonlyMap<number, number>,
): HeadCalibration[] {
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
    const maxFpr = budgets.get(h);
    if (maxFpr === undefined || positives < MIN_CLASS || negatives < MIN_CLASS) {
      out.push({ threshold: 0.5, shift: 0, positives, negatives });
      continue;
    }
    let best = { recall: -1, t: MAX_T };
    for (let t = MIN_T; t <= MAX_T + 1e-9; t += 0.01) {
      let tp = 0;
      let fp = 0;
      for (const r of rows) {
        if (r.s < t) continue;
        if (r.y === 1) tp++;
        else fp++;
      }
      // The highest recall at a per-unit validation false-positive rate within budget: both rates ignore
      // the split's class mix (the training mix, not any deployment's).
      const recall = tp / positives;
      if (fp / negatives <= maxFpr && recall > best.recall) best = { recall, t };
    }
    const shift = -logit(best.t);
    model.bias[h] = (model.bias[h] ?? 0) + shift;
    out.push({ threshold: Math.round(best.t * 100) / 100, shift, positives, negatives });
  }
  return out;
}
