import type { Category } from '../taxonomy.js';

/** One deterministic match: where, what kind, and how sure (checksummed matches are near 1). */
export interface Finding {
  category: Category;
  kind: string;
  start: number;
  end: number;
  score: number;
}

/** Runs a global regex over text and maps each match to findings (the mapper may reject a match). */
export function scan(
  text: string,
  pattern: RegExp,
  map: (m: RegExpExecArray) => Finding | undefined,
): Finding[] {
  const out: Finding[] = [];
  const re = globalOf(pattern);
  re.lastIndex = 0;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    if (m[0].length === 0) {
      re.lastIndex++;
      continue;
    }
    const f = map(m);
    if (f) out.push(f);
  }
  return out;
}

// Compiled once per pattern: building a RegExp per call was the largest cost of the detector layer.
// Keyed by source and flags, so regex literals re-created on each call share one compiled copy.
const globals = new Map<string, RegExp>();
function globalOf(pattern: RegExp): RegExp {
  const key = `${pattern.flags}/${pattern.source}`;
  let re = globals.get(key);
  if (!re) {
    re = new RegExp(pattern.source, pattern.flags.includes('g') ? pattern.flags : pattern.flags + 'g');
    globals.set(key, re);
  }
  return re;
}
