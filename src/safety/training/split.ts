/** Normalised form used for splitting and de-duplication: case, spacing and punctuation do not matter. */
export const normalizeForSplit = (text: string): string =>
  text
    .toLowerCase()
    .normalize('NFKC')
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();

/** FNV-1a 32-bit of a string. */
export function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h >>> 0;
}

/** Share of each trainable source held out for evaluation. */
export const HELD_OUT_PERCENT = 30;

/** Share of the training rows set aside (by a differently salted hash) to calibrate per-head thresholds. */
export const VALIDATION_PERCENT = 15;
export const isValidation = (text: string): boolean =>
  fnv1a('calib/1:' + normalizeForSplit(text)) % 100 < VALIDATION_PERCENT;

/**
 * Deterministic held-out split by a hash of the normalised text: the same text lands on the same side in every
 * run and on every machine, and near-duplicates (case, punctuation) land together, so none leaks into training.
 */
export const isHeldOut = (text: string): boolean =>
  fnv1a('split/1:' + normalizeForSplit(text)) % 100 < HELD_OUT_PERCENT;
