import { stemmer } from 'stemmer';
import { STOPWORDS } from './stopwords.js';

/**
 * The one text analyzer behind every memory index and query, so a term matches the same way on SQLite,
 * PostgreSQL and in process: lower-case, Unicode letters/digits, English stop words dropped, Porter stems.
 */
export function analyze(text: string): string[] {
  const out: string[] = [];
  for (const raw of text.toLowerCase().normalize('NFKC').match(WORD) ?? []) {
    const word = raw.replace(/'s$|'$/u, '').replace(/'/gu, '');
    if (word.length === 0 || STOPWORDS.has(word)) continue;
    // Stems stay ≤ 40 chars so a pasted blob cannot bloat the term index.
    out.push(stemmer(word).slice(0, 40));
  }
  return out;
}

const WORD = /[\p{L}\p{N}]+(?:'[\p{L}]+)*/gu;

/** Term → count for one analyzed text. */
export function termCounts(terms: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const t of terms) counts.set(t, (counts.get(t) ?? 0) + 1);
  return counts;
}
