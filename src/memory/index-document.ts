import { analyze } from './text/analyze.js';

/** Weighted term frequencies of one searchable record; the sum of weights is its BM25 length. */
export type TermWeights = Map<string, number>;

/**
 * How much a neighbouring turn of the same session counts toward a turn's terms. Conversation turns
 * are short and elliptic ("Yes, last Friday!"), so the question a turn answers lives in its neighbours.
 * 0.5 was chosen a priori as "half a turn"; docs/memory.md shows the curve (0.3–0.7 are within 1 point).
 */
export const NEIGHBOUR_WEIGHT = 0.5;

export interface WeightedText {
  text: string;
  weight: number;
}

export function termWeights(parts: readonly WeightedText[]): TermWeights {
  const out: TermWeights = new Map();
  for (const { text, weight } of parts) {
    if (weight <= 0) continue;
    for (const term of analyze(text)) out.set(term, (out.get(term) ?? 0) + weight);
  }
  return out;
}

/** A turn as an episode: its own words and speaker, plus its same-session neighbours at reduced weight. */
export function episodeTerms(
  turn: { speaker: string; text: string },
  neighbours: readonly { text: string }[],
): TermWeights {
  return termWeights([
    { text: turn.text, weight: 1 },
    { text: turn.speaker, weight: 1 },
    ...neighbours.map((n) => ({ text: n.text, weight: NEIGHBOUR_WEIGHT })),
  ]);
}

/** Query terms: each analyzed term once per occurrence. */
export function queryTerms(query: string): TermWeights {
  return termWeights([{ text: query, weight: 1 }]);
}
