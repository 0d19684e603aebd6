import { Featurizer, type FeatureOptions } from '../model/features.js';
import { headIndex, modelHeads } from '../model/linear-model.js';
import type { TrainRow } from '../model/train-linear.js';
import { harmCategories } from '../taxonomy.js';
import type { LabelledText } from './labelled-text.js';
import { sentences } from '../model/score-text.js';

/** How much a row counts: hand-written and reviewed rows carry more than bulk data sets. */
const sourceWeight = (source: string): number =>
  source === 'review' ? 3 : source === 'enclave-examples' ? 2 : 1;

/**
 * Targets per head: `unsafe` from the label; category heads only where the category is known (a harmful row
 * with no known category says nothing about which class it is); `indirect` only for untrusted-surface rows
 * and for direct injection examples (an injection is one wherever it appears).
 */
export function toTrainRows(
  rows: readonly LabelledText[],
  dims: number,
  features?: FeatureOptions,
): TrainRow[] {
  return toHeadRows(withSentenceUnits(rows), dims, features);
}

/**
 * The indirect head is scored per sentence pair at run time (score-text.ts), so benign documents also teach
 * it per sentence pair: trained on whole documents only, it would meet short units it never saw as negatives.
 */
function withSentenceUnits(rows: readonly LabelledText[]): LabelledText[] {
  const out = [...rows];
  for (const r of rows) {
    if (r.label !== 0 || r.surface === 'input') continue;
    const units = sentences(r.text);
    for (let i = 0; i < units.length; i++) {
      const unit = i + 1 < units.length ? `${units[i]} ${units[i + 1]}` : (units[i] ?? '');
      out.push({ ...r, id: `${r.id}#${i}`, text: unit, indirectOnly: true });
    }
  }
  return out;
}

function toHeadRows(rows: readonly LabelledText[], dims: number, features?: FeatureOptions): TrainRow[] {
  const featurizer = new Featurizer(dims, features);
  return rows.map((r) => {
    const y = new Int8Array(modelHeads.length).fill(-1);
    if (r.indirectOnly) {
      y[headIndex('indirect')] = r.label;
    } else if (r.surface === 'output') {
      // Model outputs teach the output head only: a refusal ("I can't help you build a bomb") is benign
      // output but would teach the input head that harm words are harmless.
      y[headIndex('output')] = r.label;
      if (r.label === 0) y[headIndex('indirect')] = 0;
    } else {
      y[headIndex('unsafe')] = r.label;
      // Ordinary benign text is also ordinary benign output; harmful requests say nothing about outputs.
      if (r.label === 0) y[headIndex('output')] = 0;
      if (r.label === 0 || r.categories.length > 0) {
        for (const c of harmCategories) y[headIndex(c)] = r.categories.includes(c) ? 1 : 0;
      }
      if (r.label === 1 && r.categories.includes('prompt_injection')) y[headIndex('indirect')] = 1;
      // Benign untrusted-surface text (documents, outputs) is what planted instructions hide in.
      if (r.label === 0 && r.surface !== 'input') y[headIndex('indirect')] = 0;
    }
    return { x: featurizer.featurize(r.text), y, weight: sourceWeight(r.source) };
  });
}
