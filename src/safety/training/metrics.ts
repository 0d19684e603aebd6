/** A prediction for one labelled row. */
export interface Scored {
  label: 0 | 1;
  predicted: boolean;
  score: number;
}

export interface Metrics {
  n: number;
  positives: number;
  negatives: number;
  /** null when undefined for this slice (e.g. precision with no predicted positives, FPR with no negatives). */
  precision: number | null;
  recall: number | null;
  f1: number | null;
  fpr: number | null;
  /** Average precision (area under the precision–recall curve, step-wise); null without both classes. */
  auprc: number | null;
}

const ratio = (a: number, b: number): number | null => (b === 0 ? null : a / b);

export function metrics(rows: readonly Scored[]): Metrics {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  let tn = 0;
  for (const r of rows) {
    if (r.label === 1) {
      if (r.predicted) tp++;
      else fn++;
    } else if (r.predicted) fp++;
    else tn++;
  }
  const precision = ratio(tp, tp + fp);
  const recall = ratio(tp, tp + fn);
  const f1 =
    precision === null || recall === null
      ? null
      : precision + recall === 0
        ? 0
        : (2 * precision * recall) / (precision + recall);
  return {
    n: rows.length,
    positives: tp + fn,
    negatives: fp + tn,
    precision,
    recall,
    f1,
    fpr: ratio(fp, fp + tn),
    auprc: averagePrecision(rows),
  };
}

/** Average precision: mean of precision at each positive's rank, ties broken pessimistically (negatives first). */
export function averagePrecision(rows: readonly Scored[]): number | null {
  const positives = rows.filter((r) => r.label === 1).length;
  if (positives === 0 || positives === rows.length) return null;
  const sorted = [...rows].sort((a, b) => b.score - a.score || a.label - b.label);
  let tp = 0;
  let sum = 0;
  sorted.forEach((r, i) => {
    if (r.label === 1) {
      tp++;
      sum += tp / (i + 1);
    }
  });
  return sum / positives;
}
