import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createSafetyEngine } from '../classifier.js';
import { loadModel, modelExists, saveModel } from '../model/model-file.js';
import { headIndex, modelHeads } from '../model/linear-model.js';
import { defaultTrainOptions, trainLinear } from '../model/train-linear.js';
import { buildCorpus, type SourceSummary } from './corpus.js';
import { evaluate, type EvalReport } from './evaluate.js';
import type { LabelledText } from './labelled-text.js';
import { toTrainRows } from './rows-to-features.js';
import { isValidation } from './split.js';
import { calibrateBiases } from '../model/calibrate.js';
import type { FeatureOptions } from '../model/features.js';

export interface TrainModelOptions {
  datasetsRoot: string;
  /** The active model's folder (replaced only when the gate passes). */
  modelDir: string;
  reviewed?: readonly LabelledText[];
  /** Replace even when the candidate is worse (reported, never silent). */
  force?: boolean;
  dims?: number;
  epochs?: number;
  features?: FeatureOptions;
  log?: (line: string) => void;
}

export interface TrainModelReport {
  candidateVersion: string;
  activeVersion: string | null;
  candidate: EvalReport;
  active: EvalReport | null;
  replaced: boolean;
  reason: string;
  sources: SourceSummary[];
  trainRows: number;
  evalRows: number;
}

/**
 * Character grams weigh a quarter of a word: at 0.5 a word's dozen grams carried about two thirds of the
 * vector's norm, so "kill" in "kill a Python process" looked like "kill" in a threat; words and bigrams
 * carry the context that tells them apart. Short texts get a norm floor (about four words) and every text a
 * length-band feature, so "ok" or "test" is judged by a learned prior for its length, not by one n-gram.
 */
export const trainedFeatureOptions: FeatureOptions = { gramWeight: 0.25, minNorm: 2.5, lengthPrior: true };

/**
 * Validation false-positive budgets of the calibrated heads: `indirect` per sentence pair (its document
 * score is a maximum over them). `unsafe` stays at 0.5 on class-balanced scores: a 3 % budget moved its
 * threshold to 0.72 and cost a tenth of harmful recall (docs/safety.md, honest reading).
 */
const calibrationBudgets = new Map([[headIndex('indirect'), 0.01]]);

/** Allowed drop on the gate metrics, so retraining on identical data (float noise) is not refused. */
const TOLERANCE = 0.002;

/**
 * Trains a candidate from the licence-permitted sets, own examples and reviewed decisions, evaluates it and
 * the active model on the same fixed held-out split, and replaces the active model only when the candidate is
 * not worse on F1 and AUPRC (the regression gate).
 */
export function trainModel(options: TrainModelOptions): TrainModelReport {
  const log = options.log ?? (() => undefined);
  const dims = options.dims ?? 1 << 17;
  const features = options.features ?? trainedFeatureOptions;
  const corpus = buildCorpus({ datasetsRoot: options.datasetsRoot, extraTrain: options.reviewed ?? [] });
  log(`training rows: ${corpus.train.length}; held-out evaluation rows: ${corpus.eval.length}`);
  // A validation split carved from the training rows (never from the evaluation split) sets per-head
  // thresholds. Reviewed decisions and the synthetic template rows always fit (the latter are easy negatives
  // that would make the validation false-positive rate look lower than it is).
  const alwaysFit = (r: LabelledText): boolean => r.source === 'review' || r.source === 'enclave-templates';
  const fit = corpus.train.filter((r) => alwaysFit(r) || !isValidation(r.splitKey ?? r.text));
  const validation = corpus.train.filter((r) => !alwaysFit(r) && isValidation(r.splitKey ?? r.text));
  const model = trainLinear(toTrainRows(fit, dims, features), {
    ...defaultTrainOptions,
    dims,
    heads: modelHeads.length,
    epochs: options.epochs ?? defaultTrainOptions.epochs,
  });
  const calibration = calibrateBiases(model, toTrainRows(validation, dims, features), calibrationBudgets);
  log(
    `fit rows ${fit.length}, validation rows ${validation.length}; thresholds ` +
      modelHeads.map((h, i) => `${h} ${calibration[i]?.threshold ?? 0.5}`).join(', '),
  );
  // Bias included: calibration moves biases only, and a different calibration is a different model.
  const digest = createHash('sha256')
    .update(Buffer.from(model.weights.buffer))
    .update(Buffer.from(model.bias.buffer))
    .digest('hex')
    .slice(0, 10);
  const version = `linear-${new Date().toISOString().slice(0, 10).replaceAll('-', '')}-${digest}`;

  mkdirSync(options.modelDir, { recursive: true });
  const staging = mkdtempSync(join(options.modelDir, '..', '.safety-candidate-'));
  try {
    saveModel(staging, model, {
      features,
      version,
      trainedAt: new Date().toISOString(),
      training: {
        rows: corpus.train.length,
        fitRows: fit.length,
        validationRows: validation.length,
        thresholds: Object.fromEntries(modelHeads.map((h, i) => [h, calibration[i]?.threshold ?? 0.5])),
        reviewed: options.reviewed?.length ?? 0,
        sources: corpus.sources
          .filter((s) => s.use === 'train')
          .map(({ name, licence, train }) => ({ name, licence, rows: train })),
        options: { ...defaultTrainOptions, dims },
      },
      evaluation: {},
    });
    // Evaluate the saved (quantised) weights: exactly what would ship.
    const candidate = evaluate(createSafetyEngine({ model: loadModel(staging) }), corpus.eval);
    let active: EvalReport | null = null;
    let activeVersion: string | null = null;
    if (modelExists(options.modelDir)) {
      try {
        const loaded = loadModel(options.modelDir);
        activeVersion = loaded.meta.version;
        active = evaluate(createSafetyEngine({ model: loaded }), corpus.eval);
      } catch (error) {
        log(`active model not comparable (${(error as Error).message}); the candidate replaces it`);
      }
    }
    const worse =
      active !== null &&
      ((candidate.overall.f1 ?? 0) < (active.overall.f1 ?? 0) - TOLERANCE ||
        (candidate.overall.auprc ?? 0) < (active.overall.auprc ?? 0) - TOLERANCE);
    const replaced = !worse || options.force === true;
    const reason = !worse
      ? active
        ? 'candidate is not worse on the fixed evaluation split'
        : 'no active model'
      : options.force
        ? 'candidate is worse but --force was given'
        : 'candidate is worse on the fixed evaluation split: active model kept';
    if (replaced) {
      const meta = loadModel(staging).meta;
      saveModel(options.modelDir, loadModel(staging).model, {
        ...(meta.features ? { features: meta.features } : {}),
        version: meta.version,
        trainedAt: meta.trainedAt,
        training: meta.training,
        evaluation: { overall: candidate.overall, perSource: candidate.perSource },
      });
    }
    return {
      candidateVersion: version,
      activeVersion,
      candidate,
      active,
      replaced,
      reason,
      sources: corpus.sources,
      trainRows: corpus.train.length,
      evalRows: corpus.eval.length,
    };
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}
