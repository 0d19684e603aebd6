import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseCsvRecords } from './csv.js';
import { buildCorpus } from './corpus.js';
import { averagePrecision, metrics } from './metrics.js';
import { isHeldOut, normalizeForSplit } from './split.js';
import { trainModel } from './train-model.js';

const datasets = new URL('../../../../shared/datasets', import.meta.url).pathname;

describe('training data', () => {
  it('parses quoted CSV with newlines', () => {
    expect(parseCsvRecords('a,b\n"x, ""y""","line1\nline2"\n')).toEqual([{ a: 'x, "y"', b: 'line1\nline2' }]);
  });
  it('splits deterministically by normalised text', () => {
    expect(isHeldOut('How do I bake bread?')).toBe(isHeldOut('how do i bake BREAD'));
    expect(normalizeForSplit('  Hello,  World! ')).toBe('hello world');
  });
  it('never evaluates on a training row and keeps eval-only sets out of training', () => {
    const corpus = buildCorpus({ datasetsRoot: datasets });
    const train = new Set(corpus.train.map((r) => normalizeForSplit(r.text)));
    expect(corpus.eval.length).toBeGreaterThan(500);
    expect(corpus.eval.filter((r) => train.has(normalizeForSplit(r.text)))).toEqual([]);
    const evalOnly = new Set(corpus.sources.filter((s) => s.use === 'eval-only').map((s) => s.name));
    expect(corpus.train.filter((r) => evalOnly.has(r.source))).toEqual([]);
    expect(corpus.train.some((r) => r.source === 'tensor-trust' || r.source === 'malicious-instruct')).toBe(
      false,
    );
  });
});

describe('metrics', () => {
  it('computes precision, recall, F1, FPR and average precision', () => {
    const m = metrics([
      { label: 1, predicted: true, score: 0.9 },
      { label: 1, predicted: false, score: 0.4 },
      { label: 0, predicted: true, score: 0.6 },
      { label: 0, predicted: false, score: 0.1 },
    ]);
    expect(m).toMatchObject({ precision: 0.5, recall: 0.5, f1: 0.5, fpr: 0.5 });
    expect(m.auprc).toBeCloseTo((1 + 2 / 3) / 2);
    expect(averagePrecision([{ label: 1, predicted: true, score: 1 }])).toBeNull();
  });
});

describe('regression gate', () => {
  const dir = mkdtempSync(join(tmpdir(), 'enclave-safety-gate-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const modelDir = join(dir, 'model');
  // No shared data sets (a missing folder): trains on the repository's own examples only, small and fast.
  const base = { datasetsRoot: join(dir, 'no-datasets'), modelDir, dims: 1 << 12 };

  it('installs a first model, then refuses a worse candidate and reports before/after', () => {
    const first = trainModel({ ...base, epochs: 8 });
    expect(first.replaced).toBe(true);
    const installed = readFileSync(join(modelDir, 'model.json'), 'utf8');
    const worse = trainModel({ ...base, epochs: 0 });
    expect(worse.replaced).toBe(false);
    expect(worse.active?.overall.auprc ?? 0).toBeGreaterThan(worse.candidate.overall.auprc ?? 1);
    expect(worse.activeVersion).toBe(first.candidateVersion);
    expect(readFileSync(join(modelDir, 'model.json'), 'utf8')).toBe(installed);
    expect(trainModel({ ...base, epochs: 0, force: true }).replaced).toBe(true);
  });
});
