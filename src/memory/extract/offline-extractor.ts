import type { MemoryDraft } from '../types.js';
import type { ExtractionTurn, MemoryExtractor } from './extractor.js';
import { resolveRelativeDate } from './relative-date.js';

interface Rule {
  kind: MemoryDraft['kind'];
  pattern: RegExp;
  /** Third-person text, and (for updatable facts) the attribute whose new value replaces the old. */
  build(speaker: string, m: RegExpMatchArray): { text: string; attribute?: string; value?: string };
}

const clause = (s: string | undefined): string => (s ?? '').trim().replace(/\s+/gu, ' ').slice(0, 160);

/**
 * First-person statements that are worth remembering. Patterns are deliberately narrow: a missed
 * memory still leaves the turn itself searchable (as an episode), a wrong one pollutes recall.
 */
const RULES: readonly Rule[] = [
  {
    kind: 'fact',
    pattern: /\bmy name is ([A-Z][\w-]*(?: [A-Z][\w-]*)?)/u,
    build: (s, m) => ({ text: `${s}'s name is ${clause(m[1])}`, attribute: 'name', value: clause(m[1]) }),
  },
  {
    kind: 'fact',
    pattern: /\bI(?:'m| am) (\d{1,3}) years? old/iu,
    build: (s, m) => ({ text: `${s} is ${clause(m[1])} years old`, attribute: 'age', value: clause(m[1]) }),
  },
  {
    kind: 'fact',
    pattern: /\bI (?:now )?live in ([^.,!?;]+)/iu,
    build: (s, m) => ({ text: `${s} lives in ${clause(m[1])}`, attribute: 'lives in', value: clause(m[1]) }),
  },
  {
    kind: 'fact',
    pattern: /\bI (?:now )?work (as|at|for) ([^.,!?;]+)/iu,
    build: (s, m) => ({
      text: `${s} works ${m[1]?.toLowerCase()} ${clause(m[2])}`,
      attribute: `works ${m[1]?.toLowerCase()}`,
      value: clause(m[2]),
    }),
  },
  {
    kind: 'preference',
    pattern: /\bmy fav(?:ou?rite)? ([\w ]{2,30}?) (?:is|are) ([^.,!?;]+)/iu,
    build: (s, m) => ({
      text: `${s}'s favorite ${clause(m[1])} is ${clause(m[2])}`,
      attribute: `favorite ${clause(m[1]).toLowerCase()}`,
      value: clause(m[2]),
    }),
  },
  {
    kind: 'preference',
    pattern:
      /\bI (?:really |absolutely |just )?(love|like|enjoy|prefer|adore|hate|dislike|can't stand) ([^.,!?;]+)/iu,
    build: (s, m) => ({ text: `${s} ${verb3(m[1] ?? '')} ${clause(m[2])}` }),
  },
  {
    kind: 'plan',
    pattern:
      /\bI(?:'m| am) (?:going|planning|hoping|about) to ([^.,!?;]+)|\bI (?:plan|want|hope|intend|aim) to ([^.,!?;]+)|\bmy goal is to ([^.,!?;]+)/iu,
    build: (s, m) => ({ text: `${s} plans to ${clause(m[1] ?? m[2] ?? m[3])}` }),
  },
  {
    kind: 'event',
    pattern:
      /\bI (went|visited|started|finished|joined|moved|got|bought|adopted|ran|painted|met|attended|took|made|won|lost|graduated|signed up) ([^.!?;]*)/iu,
    build: (s, m) => ({ text: `${s} ${m[1]?.toLowerCase()} ${clause(m[2])}` }),
  },
];

/** "love" → "loves"; every verb the preference rule matches takes a plain -s. */
const verb3 = (v: string): string =>
  v.toLowerCase() === "can't stand" ? "can't stand" : `${v.toLowerCase()}s`;

/** Deterministic, offline extractor: no model, no network, same input → same drafts. */
export function offlineExtractor(): MemoryExtractor {
  return {
    name: 'offline',
    async extract(turns: readonly ExtractionTurn[]): Promise<MemoryDraft[]> {
      const drafts: MemoryDraft[] = [];
      for (const turn of turns) {
        for (const sentence of turn.text.split(/(?<=[.!?])\s+/u)) {
          for (const rule of RULES) {
            const m = sentence.match(rule.pattern);
            if (!m) continue;
            const built = rule.build(turn.speaker, m);
            const when = rule.kind === 'event' ? resolveRelativeDate(sentence, turn.occurredAt) : undefined;
            const text = when ? `${built.text} (${when.label})` : built.text;
            drafts.push({
              kind: rule.kind,
              text,
              subject: built.attribute ? turn.speaker : undefined,
              attribute: built.attribute,
              value: built.value,
              validFrom: when?.at,
              sourceIds: [turn.id],
            });
            break; // one memory per sentence: the first (most specific) rule wins
          }
        }
      }
      return drafts;
    },
  };
}
