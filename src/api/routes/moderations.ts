import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { categories, type Category, type Safety } from '../../safety/index.js';
import { anyRole, defineRoute } from '../route.js';

/**
 * OpenAI's moderation categories and the Enclave categories that answer each (the score is their maximum).
 * Where a class of ours has no OpenAI counterpart (prompt injection, red lines, PII, secrets) it is reported
 * under its own name beside OpenAI's, so an OpenAI client reads the keys it knows and ignores the rest.
 */
const openAiCategories: Readonly<Record<string, readonly Category[]>> = {
  harassment: ['hate_harassment'],
  'harassment/threatening': [],
  hate: ['hate_harassment'],
  'hate/threatening': [],
  illicit: ['illicit_goods', 'cyber_attack', 'fraud_deception'],
  'illicit/violent': ['weapons'],
  'self-harm': ['self_harm'],
  'self-harm/intent': [],
  'self-harm/instructions': [],
  sexual: ['sexual', 'sexual_minors'],
  'sexual/minors': ['sexual_minors'],
  violence: ['violence'],
  'violence/graphic': [],
};

const body = z.object({
  input: z.union([
    z.string(),
    z.array(z.string()).min(1).max(100),
    z
      .array(
        z.object({ type: z.literal('text', { error: 'only text inputs are supported' }), text: z.string() }),
      )
      .min(1)
      .max(100),
  ]),
  model: z.string().optional(),
});

function moderate(safety: Safety, tenantId: string, text: string) {
  const policy = safety.policyFor(tenantId);
  const evidence = safety.engine.evidence(text, 'input');
  const verdict = safety.engine.decide(evidence, { surface: 'input', policy });
  const fired = new Set(verdict.categories.map((c) => c.category));
  const score = (c: Category): number => evidence.get(c)?.score ?? 0;
  const flags: Record<string, boolean> = {};
  const scores: Record<string, number> = {};
  for (const [name, ours] of Object.entries(openAiCategories)) {
    flags[name] = ours.some((c) => fired.has(c));
    scores[name] = Math.max(0, ...ours.map(score));
  }
  for (const c of categories) {
    flags[c] = fired.has(c);
    scores[c] = score(c);
  }
  return {
    flagged: verdict.flagged,
    categories: flags,
    category_scores: scores,
    category_applied_input_types: Object.fromEntries(Object.keys(flags).map((k) => [k, ['text']])),
    // Enclave's own reading: what the runtime would do with this text as input under your tenant's policy.
    action: verdict.action,
    policy_version: verdict.policyVersion,
  };
}

export const moderationsRoute = defineRoute({
  method: 'POST',
  url: '/v1/moderations',
  summary:
    "Classify text with Enclave's safety stack, in OpenAI's moderation shape (plus Enclave's categories).",
  tag: 'safety',
  auth: anyRole,
  body,
  handle: async ({ body: b, principal, services }) => {
    const texts =
      typeof b.input === 'string' ? [b.input] : b.input.map((i) => (typeof i === 'string' ? i : i.text));
    return {
      id: `modr-${randomBytes(12).toString('hex')}`,
      model: services.safety.engine.modelVersion,
      results: texts.map((t) => moderate(services.safety, principal.tenantId, t)),
    };
  },
});
