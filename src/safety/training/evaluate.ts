import type { SafetyEngine } from '../classifier.js';
import { harmCategories, type HarmCategory } from '../taxonomy.js';
import type { LabelledText } from './labelled-text.js';
import { metrics, type Metrics, type Scored } from './metrics.js';

export interface EvalReport {
  overall: Metrics;
  perSource: Record<string, Metrics>;
  /** Per category: positives are rows labelled with it, negatives every benign row; predicted = the verdict names it. */
  perCategory: Partial<Record<HarmCategory, Metrics>>;
}

/** Runs the full in-process stack (detectors + model + policy) over labelled rows and scores it. */
export function evaluate(engine: SafetyEngine, rows: readonly LabelledText[]): EvalReport {
  const overall: Scored[] = [];
  const bySource = new Map<string, Scored[]>();
  const byCategory = new Map<HarmCategory, Scored[]>();
  const negatives: { score: Partial<Record<HarmCategory, number>>; named: Set<string> }[] = [];
  for (const row of rows) {
    const evidence = engine.evidence(row.text, row.surface);
    const verdict = engine.decide(evidence, { surface: row.surface });
    const scored: Scored = { label: row.label, predicted: verdict.flagged, score: verdict.score };
    overall.push(scored);
    bySource.set(row.source, [...(bySource.get(row.source) ?? []), scored]);
    const named = new Set<string>(verdict.categories.map((c) => c.category));
    if (row.label === 0) {
      negatives.push({
        score: Object.fromEntries(harmCategories.map((c) => [c, evidence.get(c)?.score ?? 0])),
        named,
      });
    }
    for (const c of row.label === 1 ? row.categories : []) {
      byCategory.set(c, [
        ...(byCategory.get(c) ?? []),
        { label: 1, predicted: named.has(c), score: evidence.get(c)?.score ?? 0 },
      ]);
    }
  }
  const perCategory: Partial<Record<HarmCategory, Metrics>> = {};
  for (const [c, pos] of byCategory) {
    perCategory[c] = metrics([
      ...pos,
      ...negatives.map((n) => ({ label: 0 as const, predicted: n.named.has(c), score: n.score[c] ?? 0 })),
    ]);
  }
  return {
    overall: metrics(overall),
    perSource: Object.fromEntries([...bySource].map(([s, r]) => [s, metrics(r)])),
    perCategory,
  };
}
