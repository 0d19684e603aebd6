import { invalidLabel } from './label.js';

/**
 * SCI and SAP compartments as marked: `SI-G ABCD ACDE/TK` is control system SI, compartment G with
 * sub-compartments ABCD and ACDE, and TK; `RSV-ABC-DEF` is RSV with compartments ABC and DEF. In a label they
 * are stored flat with their parents (SI, SI-G, SI-G-ABCD, SI-G-ACDE, TK), the form of ISM's SCIcontrols
 * attribute, so set union and inclusion are the roll-up and dominance rules. SAP program names may hold spaces,
 * stored as underscores (`SAR-PROM TUX` ↔ SAR-PROM_TUX), as in ISM's SARIdentifier.
 */
export function renderCompartments(tokens: readonly string[]): string {
  const tree = new Map<string, Map<string, Set<string>>>();
  for (const t of tokens) {
    const [root = '', comp, sub] = t.split('-');
    const comps = tree.get(root) ?? new Map<string, Set<string>>();
    tree.set(root, comps);
    if (comp !== undefined) {
      const subs = comps.get(comp) ?? new Set<string>();
      comps.set(comp, subs);
      if (sub !== undefined) subs.add(sub);
    }
  }
  return [...tree.keys()]
    .sort()
    .map((root) => {
      const comps = tree.get(root) ?? new Map<string, Set<string>>();
      const parts = [...comps.keys()].sort().map((c) => [c, ...[...(comps.get(c) ?? [])].sort()].join(' '));
      return [root.replaceAll('_', ' '), ...parts].join('-');
    })
    .join('/');
}

const WORD = /^[A-Z0-9]+$/;

/** Parses one `/`-separated compartment list back into flat tokens; `allowSpacedRoot` for SAP program names. */
export function parseCompartments(text: string, allowSpacedRoot: boolean, context: string): string[] {
  const out: string[] = [];
  for (const element of text.split('/')) {
    const [rootText = '', ...rest] = element.split('-');
    const rootWords = rootText.split(' ');
    if (!rootWords.every((w) => WORD.test(w)) || (!allowSpacedRoot && rootWords.length > 1)) {
      invalidLabel(`malformed compartment '${element}' in '${context}'`);
    }
    const root = rootWords.join('_');
    out.push(root);
    for (const part of rest) {
      const [comp = '', ...subs] = part.split(' ');
      if (![comp, ...subs].every((w) => WORD.test(w)))
        invalidLabel(`malformed compartment '${element}' in '${context}'`);
      out.push(`${root}-${comp}`, ...subs.map((s) => `${root}-${comp}-${s}`));
    }
  }
  return out;
}
