import type { Featurizer } from './features.js';
import { headIndex, type LinearModel } from './linear-model.js';

/** Texts longer than this are scored in overlapping windows, so one harmful paragraph in a long document still shows. */
const WINDOW = 1_500;
const STRIDE = 1_200;
const SENTENCE = /[^.!?\n]+(?:[.!?]+|\n|$)/g;

/** Per-head probabilities for a text: the maximum over its windows. */
export function scoreText(model: LinearModel, featurizer: Featurizer, text: string): Float32Array {
  if (text.length <= WINDOW) return model.predict(featurizer.featurize(text));
  const best = new Float32Array(model.heads);
  for (let start = 0; start < text.length; start += STRIDE) {
    const p = model.predict(featurizer.featurize(text.slice(start, start + WINDOW)));
    for (let h = 0; h < best.length; h++) best[h] = Math.max(best[h] ?? 0, p[h] ?? 0);
    if (start + WINDOW >= text.length) break;
  }
  return best;
}

/** Splits untrusted text into sentence-sized units (lines, sentences) for the indirect-injection head. */
export function sentences(text: string): string[] {
  const out: string[] = [];
  for (const m of text.match(SENTENCE) ?? []) {
    const s = m.trim();
    if (s.length >= 12) out.push(s);
  }
  return out;
}

/**
 * The `indirect` head scored per sentence (max), because a planted instruction is one sentence in a page of
 * data and would be diluted if the page were scored as a whole. Sentences are scored with their neighbour
 * so an instruction split across two lines is still seen.
 */
export function indirectScore(model: LinearModel, featurizer: Featurizer, text: string): number {
  const h = headIndex('indirect');
  const units = sentences(text);
  let best = 0;
  for (let i = 0; i < units.length; i++) {
    const unit = i + 1 < units.length ? `${units[i]} ${units[i + 1]}` : (units[i] ?? '');
    best = Math.max(best, model.predict(featurizer.featurize(unit.slice(0, WINDOW)))[h] ?? 0);
    if (i > 400) break; // Bounded cost on huge tool outputs; the windowed whole-text score still covers the rest.
  }
  return best;
}
