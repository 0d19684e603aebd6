/**
 * The safety domain's public surface (what the runtime and API call). Everything else in src/safety is
 * internal. Typical use:
 *   const safety = loadSafety(config);
 *   const verdict = safety.engine.classify(text, { surface: 'input', policy: safety.policyFor(tenant) });
 *   const guard = new StreamGuard(safety.engine, { surface: 'output', policy });
 */
export {
  createSafetyEngine,
  type ClassifyOptions,
  type SafetyEngine,
  type SafetyEngineOptions,
} from './classifier.js';
export { StreamGuard, type StreamGuardOptions, type StreamGuardStep } from './stream-guard.js';
export { redact, redactableSpans } from './redact.js';
export { defaultPolicy, parsePolicy, policySchema, ruleFor, type Policy, type Rule } from './policy.js';
export {
  loadSafety,
  safetyConfigSchema,
  shippedModelDir,
  type Safety,
  type SafetyConfig,
} from './safety-config.js';
export { createHttpJudge, judgeConfigSchema, type JudgeConfig } from './judge/http-judge.js';
export type { Judge, JudgeResult } from './judge/judge.js';
export {
  categories,
  definitions,
  harmCategories,
  redLines,
  TAXONOMY_VERSION,
  type Category,
  type HarmCategory,
} from './taxonomy.js';
export {
  actions,
  surfaces,
  untrustedSurfaces,
  type Action,
  type CategoryScore,
  type Layer,
  type Span,
  type Surface,
  type Verdict,
} from './verdict.js';
export {
  decideReview,
  recordVerdict,
  reviewedTrainingRows,
  needsReview,
  verdictRecord,
} from './review/review-queue.js';
