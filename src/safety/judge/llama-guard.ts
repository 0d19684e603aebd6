import type { Category } from '../taxonomy.js';
import type { JudgeResult } from './judge.js';

/** Llama Guard 3 hazard codes (MLCommons taxonomy) mapped to ours. S6 (specialised advice) and S13 (elections) have no class here. */
const hazardCodes: Readonly<Record<string, Category>> = {
  S1: 'violence',
  S2: 'illicit_goods',
  S3: 'sexual',
  S4: 'sexual_minors',
  S5: 'hate_harassment',
  S7: 'pii',
  S8: 'fraud_deception',
  S9: 'weapons',
  S10: 'hate_harassment',
  S11: 'self_harm',
  S12: 'sexual',
  S14: 'cyber_attack',
};

/**
 * Parses a judge's reply: Llama Guard's "safe" / "unsafe\nS1,S10", or a JSON object
 * {"unsafe"|"flagged": bool, "categories": [...], "score"?: number} from a generic instructed model.
 * Returns undefined when the reply is neither, so the caller can treat the judge as unavailable.
 */
export function parseJudgeReply(reply: string): JudgeResult | undefined {
  const text = reply.trim();
  const first = text.split(/\s+/)[0]?.toLowerCase();
  if (first === 'safe') return { unsafe: false, categories: [], score: 0 };
  if (first === 'unsafe') {
    const codes = text.slice(6).match(/S\d{1,2}/g) ?? [];
    const categories = [
      ...new Set(codes.map((c) => hazardCodes[c]).filter((c): c is Category => c !== undefined)),
    ];
    return { unsafe: true, categories, score: 1 };
  }
  const json = text.match(/\{[\s\S]*\}/)?.[0];
  if (!json) return undefined;
  try {
    const value = JSON.parse(json) as {
      unsafe?: unknown;
      flagged?: unknown;
      categories?: unknown;
      score?: unknown;
    };
    const unsafe = value.unsafe ?? value.flagged;
    if (typeof unsafe !== 'boolean') return undefined;
    const categories = Array.isArray(value.categories)
      ? value.categories.filter((c): c is Category => typeof c === 'string')
      : [];
    const score =
      typeof value.score === 'number' && value.score >= 0 && value.score <= 1 ? value.score : unsafe ? 1 : 0;
    return { unsafe, categories, score };
  } catch {
    return undefined;
  }
}
