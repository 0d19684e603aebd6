import { z } from 'zod';
import { EnclaveError } from '../errors/index.js';
import { categories, harmCategories, redLines, type Category } from './taxonomy.js';
import { actions, surfaces, type Action, type Surface } from './verdict.js';

const ruleSchema = z.object({
  threshold: z.number().min(0).max(1),
  action: z.enum(actions),
});
export type Rule = z.infer<typeof ruleSchema>;

const rulesSchema = z.partialRecord(z.enum(categories), ruleSchema);

/**
 * A tenant's safety policy: per category a threshold and an action, optionally overridden per surface
 * (e.g. stricter injection rules for tool output). Versioned: every verdict records the version it was
 * decided under, so a changed policy never rewrites the meaning of old verdicts.
 */
export const policySchema = z.object({
  version: z.string().min(1).max(100),
  rules: rulesSchema,
  surfaces: z.partialRecord(z.enum(surfaces), rulesSchema).default({}),
});
export type Policy = z.infer<typeof policySchema>;

/** Parses a policy from untrusted input (config file, admin API) with a message that names the bad field. */
export function parsePolicy(input: unknown): Policy {
  const result = policySchema.safeParse(input);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new EnclaveError(
      'invalid_request',
      `Invalid safety policy at ${issue?.path.join('.') || '(root)'}: ${issue?.message}.`,
    );
  }
  return result.data;
}

const defaultRules = (): Partial<Record<Category, Rule>> => {
  const rules: Partial<Record<Category, Rule>> = {};
  for (const c of harmCategories) rules[c] = { threshold: 0.5, action: 'block' };
  for (const c of redLines) rules[c] = { threshold: 0.5, action: 'escalate' };
  // Sexual content involving minors is the one class where a lower bar is worth more false positives.
  rules.sexual_minors = { threshold: 0.35, action: 'block' };
  rules.pii = { threshold: 0.5, action: 'redact' };
  rules.secrets = { threshold: 0.5, action: 'redact' };
  return rules;
};

/** The shipped default: block harm, escalate red lines, redact personal data and credentials. */
export const defaultPolicy: Policy = {
  version: 'default/1',
  rules: defaultRules(),
  surfaces: {
    // A credential in a model's output or a memory is blocked outright: it must never be persisted or shown.
    output: { secrets: { threshold: 0.5, action: 'block' } },
    // On third-party text the injection score is a maximum over every sentence, so it needs a higher bar to
    // keep ordinary documents (which are full of imperative sentences) from being flagged.
    tool_output: { prompt_injection: { threshold: 0.9, action: 'block' } },
    retrieved: { prompt_injection: { threshold: 0.9, action: 'flag' } },
    memory: {
      secrets: { threshold: 0.5, action: 'block' },
      pii: { threshold: 0.5, action: 'flag' },
      prompt_injection: { threshold: 0.9, action: 'block' },
    },
  },
};

/** The rule in force for a category on a surface (surface override, else the base rule, else allow). */
export function ruleFor(policy: Policy, category: Category, surface: Surface): Rule {
  return (
    policy.surfaces[surface]?.[category] ??
    policy.rules[category] ?? { threshold: 1.01, action: 'allow' as Action }
  );
}
