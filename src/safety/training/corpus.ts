import type { DataSource, LabelledText } from './labelled-text.js';
import { loadOwnExamples } from './own-examples.js';
import { dataSources } from './sources.js';
import { isHeldOut, normalizeForSplit } from './split.js';
import { templateNegatives } from './template-negatives.js';

export interface SourceSummary {
  name: string;
  licence: string;
  use: string;
  note: string;
  train: number;
  eval: number;
  present: boolean;
}

export interface Corpus {
  train: LabelledText[];
  /** The fixed evaluation split: held-out rows of trainable sets, all rows of evaluation-only sets. */
  eval: LabelledText[];
  sources: SourceSummary[];
}

export interface CorpusOptions {
  datasetsRoot: string;
  /** Extra training rows (reviewed decisions); never part of the evaluation split. */
  extraTrain?: readonly LabelledText[];
  sources?: readonly DataSource[];
  ownExamples?: readonly LabelledText[];
  /** Synthetic benign rows in harmful-set phrasing (default: the built-in set; `[]` for none). Train only. */
  templates?: readonly LabelledText[];
}

/**
 * Builds the training rows and the fixed evaluation split. Evaluation rows whose normalised text appears
 * anywhere in training (the sets overlap: StrongREJECT and JailbreakBench borrow from AdvBench) are dropped,
 * so no number is ever measured on a row the model was trained on.
 */
export function buildCorpus(options: CorpusOptions): Corpus {
  const train: LabelledText[] = [];
  const held: LabelledText[] = [];
  const sources: SourceSummary[] = [];
  const own = options.ownExamples ?? loadOwnExamples();
  const all: {
    source: Pick<DataSource, 'name' | 'licence' | 'use' | 'note'>;
    rows: readonly LabelledText[] | undefined;
  }[] = [
    ...(options.sources ?? dataSources).map((s) => ({ source: s, rows: s.load(options.datasetsRoot) })),
    {
      source: {
        name: 'enclave-examples',
        licence: 'Apache-2.0 (this repository)',
        use: 'train',
        note: 'hand-written positives and hard negatives per category',
      },
      rows: own,
    },
  ];
  for (const { source, rows } of all) {
    const summary: SourceSummary = { ...source, train: 0, eval: 0, present: rows !== undefined };
    for (const row of rows ?? []) {
      if (!row.text.trim()) continue;
      // Indirect-only rows teach one head and are evaluated through bipia-injected instead.
      const toEval = source.use === 'eval-only' || (!row.indirectOnly && isHeldOut(row.splitKey ?? row.text));
      if (toEval) held.push(row);
      else train.push(row);
    }
    sources.push(summary);
  }
  // Synthetic rows only train: held out, they would measure how well the model learned our own template.
  const templates = options.templates ?? templateNegatives();
  train.push(...templates);
  sources.push({
    name: 'enclave-templates',
    licence: 'Apache-2.0 (this repository)',
    use: 'train',
    note: 'benign tasks in the openers of harmful-instruction sets (synthetic, train only)',
    train: 0,
    eval: 0,
    present: templates.length > 0,
  });
  train.push(...(options.extraTrain ?? []));
  const seen = new Set(train.map((r) => normalizeForSplit(r.text)));
  const evalRows: LabelledText[] = [];
  for (const row of held) {
    const key = `${row.source}\u0000${row.surface}\u0000${normalizeForSplit(row.text)}`;
    const text = normalizeForSplit(row.text);
    if (seen.has(text) || seen.has(key)) continue;
    seen.add(key);
    evalRows.push(row);
  }
  for (const s of sources) {
    s.train = train.filter((r) => r.source === s.name).length;
    s.eval = evalRows.filter((r) => r.source === s.name).length;
  }
  return { train, eval: evalRows, sources };
}
