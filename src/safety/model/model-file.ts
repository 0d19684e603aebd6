import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { z } from 'zod';
import { EnclaveError } from '../../errors/index.js';
import { TAXONOMY_VERSION } from '../taxonomy.js';
import { legacyFeatureOptions, type FeatureOptions } from './features.js';
import { LinearModel, modelHeads, requiredHeads } from './linear-model.js';

/** Metadata beside the weights: what the model is, what it was trained on, how it scored when it was made. */
export const modelMetaSchema = z.object({
  format: z.literal('enclave-safety-linear/1'),
  version: z.string(),
  taxonomyVersion: z.string(),
  dims: z.number().int().positive(),
  heads: z.array(z.string()),
  bias: z.array(z.number()),
  /** Per-head int8 dequantisation scale. */
  scale: z.array(z.number()),
  /** Featurizer options the weights were trained with (absent in older models: the legacy options). */
  features: z
    .object({
      gramWeight: z.number().positive(),
      minNorm: z.number().nonnegative().default(0),
      lengthPrior: z.boolean().default(false),
    })
    .optional(),
  trainedAt: z.string(),
  training: z.record(z.string(), z.unknown()).default({}),
  evaluation: z.record(z.string(), z.unknown()).default({}),
});
export type ModelMeta = z.infer<typeof modelMetaSchema>;

export interface LoadedModel {
  model: LinearModel;
  meta: ModelMeta;
}

/** The featurizer options to score a loaded model with. */
export const featureOptionsOf = (meta: ModelMeta): FeatureOptions => meta.features ?? legacyFeatureOptions;

const META = 'model.json';
const WEIGHTS = 'weights.i8.gz';

/**
 * Saves weights as per-head int8 (gzip): a quarter of float32 size, and the rounding error (≤ scale/2 per
 * weight) moves scores by far less than the decision margin. Files are written then renamed, so a reader
 * never sees half a model.
 */
export function saveModel(
  dir: string,
  model: LinearModel,
  meta: Omit<ModelMeta, 'bias' | 'scale' | 'dims' | 'heads' | 'format' | 'taxonomyVersion'>,
): ModelMeta {
  mkdirSync(dir, { recursive: true });
  const H = model.heads;
  const scale = new Array<number>(H).fill(0);
  for (let i = 0; i < model.weights.length; i++) {
    const h = i % H;
    scale[h] = Math.max(scale[h] ?? 0, Math.abs(model.weights[i] ?? 0));
  }
  for (let h = 0; h < H; h++) scale[h] = (scale[h] ?? 0) / 127 || 1;
  const q = new Int8Array(model.weights.length);
  for (let i = 0; i < q.length; i++) q[i] = Math.round((model.weights[i] ?? 0) / (scale[i % H] ?? 1));
  const full: ModelMeta = {
    format: 'enclave-safety-linear/1',
    taxonomyVersion: TAXONOMY_VERSION,
    dims: model.dims,
    heads: [...modelHeads],
    bias: Array.from(model.bias),
    scale,
    ...meta,
  };
  writeFileSync(join(dir, WEIGHTS + '.tmp'), gzipSync(Buffer.from(q.buffer), { level: 9 }));
  writeFileSync(join(dir, META + '.tmp'), JSON.stringify(full, null, 2) + '\n');
  renameSync(join(dir, WEIGHTS + '.tmp'), join(dir, WEIGHTS));
  renameSync(join(dir, META + '.tmp'), join(dir, META));
  return full;
}

export const modelExists = (dir: string): boolean =>
  existsSync(join(dir, META)) && existsSync(join(dir, WEIGHTS));

export function loadModel(dir: string): LoadedModel {
  if (!modelExists(dir)) {
    throw new EnclaveError(
      'unavailable',
      `No safety model in ${dir}: run \`enclave safety train\` (or npm run train:safety).`,
    );
  }
  const meta = modelMetaSchema.parse(JSON.parse(readFileSync(join(dir, META), 'utf8')));
  if (
    meta.heads.length < requiredHeads ||
    meta.heads.join() !== modelHeads.slice(0, meta.heads.length).join()
  ) {
    throw new EnclaveError(
      'unavailable',
      `The safety model in ${dir} has heads for another taxonomy (${meta.taxonomyVersion}); retrain it.`,
    );
  }
  const raw = gunzipSync(readFileSync(join(dir, WEIGHTS)));
  const q = new Int8Array(raw.buffer, raw.byteOffset, raw.byteLength);
  const H = meta.heads.length;
  if (q.length !== meta.dims * H)
    throw new EnclaveError('unavailable', `The safety model weights in ${dir} are truncated.`);
  const weights = new Float32Array(q.length);
  for (let i = 0; i < q.length; i++) weights[i] = (q[i] ?? 0) * (meta.scale[i % H] ?? 0);
  // A copy: the gunzip buffer may be a slice of a larger pooled allocation.
  const quantized = { q: Int8Array.from(q), scale: Float32Array.from(meta.scale) };
  return { model: new LinearModel(meta.dims, weights, Float32Array.from(meta.bias), quantized), meta };
}
