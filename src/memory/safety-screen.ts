import { redLines, ruleFor, type Action, type Category, type Safety } from '../safety/index.js';
import type { ScreenMemory } from './screen.js';

/**
 * What keeps a text out of memory: instructions aimed at the model (indirect prompt injection), credentials
 * and red-line content whenever the tenant's policy on the `memory` surface does more than allow or redact
 * them (flag, block, escalate) — a remembered text is replayed into future prompts, so even a flag is too
 * much. Other harm categories do not quarantine: the turn they came from already passed the input and output
 * screens, and the shipped model's false positives on ordinary personal facts ("I live in Porto now." scores
 * sexual 0.72 / violence 0.65) would otherwise keep everyday facts out of memory.
 */
const QUARANTINE_ACTIONS: ReadonlySet<Action> = new Set<Action>(['flag', 'block', 'escalate']);
const QUARANTINED: ReadonlySet<Category> = new Set<Category>(['prompt_injection', 'secrets', ...redLines]);

export function safetyScreen(safety: Safety): ScreenMemory {
  return (text, tenantId) => {
    const policy = safety.policyFor(tenantId);
    const verdict = safety.engine.classify(text, { surface: 'memory', policy });
    const reasons = verdict.categories.filter(
      (c) =>
        QUARANTINED.has(c.category) && QUARANTINE_ACTIONS.has(ruleFor(policy, c.category, 'memory').action),
    );
    if (reasons.length === 0) return { quarantine: false, reason: '' };
    return {
      quarantine: true,
      reason: `safety ${verdict.policyVersion}: ${reasons.map((c) => `${c.category} ${c.score.toFixed(2)}`).join(', ')}`,
    };
  };
}
