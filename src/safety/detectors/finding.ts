import type { Category } from '../taxonomy.js';

/** One deterministic match: where, what kind, and how sure (checksummed matches are near 1). */
export interface Finding {
  category: Category;
  kind: string;
  start: number;
  end: number;
  score: number;
}

/**
 * Gates: per pattern, lower-case literals of which at least one must occur for the pattern to match at all.
 * All gate literals are found in one pass of a combined regex over the once-lower-cased text, so ordinary
 * text skips most pattern scans (the detectors were the largest cost of `classify` after the featurizer).
 * A pattern without a gate always runs.
 */
export class GateSet {
  private readonly finder: RegExp;
  /** For each literal, the shorter literals it starts with (an alternation reports one per position). */
  private readonly prefixes = new Map<string, string[]>();

  readonly literals: readonly string[];

  constructor(gates: readonly (readonly string[] | undefined)[]) {
    const literals = [...new Set(gates.flatMap((g) => g ?? []))].sort((a, b) => b.length - a.length);
    this.literals = literals;
    for (const l of literals)
      this.prefixes.set(
        l,
        literals.filter((p) => l.startsWith(p)),
      );
    const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    this.finder = new RegExp(literals.map(escape).join('|'), 'g');
  }

  static union(...sets: readonly GateSet[]): GateSet {
    return new GateSet(sets.map((s) => s.literals));
  }

  /** The gate literals present in `lower`. */
  present(lower: string): Set<string> {
    const found = new Set<string>();
    this.finder.lastIndex = 0;
    for (let m = this.finder.exec(lower); m !== null; m = this.finder.exec(lower)) {
      for (const p of this.prefixes.get(m[0]) ?? [m[0]]) found.add(p);
      // Step one character, not past the match, so a literal starting inside this one is found too.
      this.finder.lastIndex = m.index + 1;
    }
    return found;
  }
}

export const gatePasses = (present: ReadonlySet<string>, gate: readonly string[] | undefined): boolean =>
  gate === undefined || gate.some((literal) => present.has(literal));

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
