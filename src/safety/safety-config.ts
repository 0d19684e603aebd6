import { join } from 'node:path';
import { z } from 'zod';
import { configSection, type Config } from '../config/config.js';
import { packageRoot } from '../config/package-root.js';
import { createSafetyEngine, type SafetyEngine } from './classifier.js';
import { createHttpJudge, judgeConfigSchema } from './judge/http-judge.js';
import { loadModel } from './model/model-file.js';
import { defaultPolicy, policySchema, type Policy } from './policy.js';

/** The `safety` section of the config file. */
export const safetyConfigSchema = z.object({
  /** Folder with model.json + weights.i8.gz; default: the model shipped in the package. */
  modelDir: z.string().min(1).optional(),
  /** The policy for tenants without their own. */
  policy: policySchema.optional(),
  /** Per-tenant policies, keyed by tenant id. */
  tenants: z.record(z.string(), policySchema).default({}),
  judge: judgeConfigSchema.optional(),
});
export type SafetyConfig = z.infer<typeof safetyConfigSchema>;

export const shippedModelDir = (): string => join(packageRoot(), 'models', 'safety');

export interface Safety {
  engine: SafetyEngine;
  /** The policy in force for a tenant (its own, else the configured default, else the shipped default). */
  policyFor(tenantId: string): Policy;
}

/** Builds the safety stack from configuration: loads the model once, wires the judge when configured. */
export function loadSafety(config?: Config): Safety {
  const section: SafetyConfig = config
    ? configSection(config, 'safety', safetyConfigSchema)
    : safetyConfigSchema.parse({});
  const base = section.policy ?? defaultPolicy;
  const engine = createSafetyEngine({
    model: loadModel(section.modelDir ?? shippedModelDir()),
    policy: base,
    ...(section.judge ? { judge: createHttpJudge(section.judge), judgeBand: section.judge.band } : {}),
  });
  return { engine, policyFor: (tenantId) => section.tenants[tenantId] ?? base };
}
