import { accessCnf, renderCnf } from './access-cnf.js';
import { invalidLabel, normalizeLabel, type Label } from './label.js';
import { parseBanner } from './marking-parse.js';
import { renderBanner } from './marking-render.js';
import { onSchemeChange } from './scheme.js';

/**
 * The one stored and compared form: the canonical banner, then, if the label has a need-to-know expression,
 * ` ACCESS=` and its normalized form: `SECRET//SI//NOFORN ACCESS=A&(B|C)`. `=` never occurs in a banner, so the
 * first ` ACCESS=` always splits the two. Equal labels have equal canonical strings (the access part is the
 * unique minimal CNF), so the label catalogue can key on it.
 */
const ACCESS_SEPARATOR = ' ACCESS=';

export function canonicalLabel(label: Label): string {
  const normal = normalizeLabel(label);
  let text = canonicalOf.get(normal);
  if (text === undefined) {
    const banner = renderBanner(normal);
    text = normal.access === undefined ? banner : `${banner}${ACCESS_SEPARATOR}${normal.access}`;
    canonicalOf.set(normal, text);
  }
  return text;
}

let cache = new Map<string, Label>();
/** Canonical strings of normalized labels (frozen, one object per lattice value). */
let canonicalOf = new WeakMap<Label, string>();
const CACHE_LIMIT = 10_000;
onSchemeChange(() => {
  cache = new Map();
  canonicalOf = new WeakMap();
});

/**
 * Accepts a canonical string or any valid banner (with an optional ` ACCESS=` part) and returns the frozen
 * normalized label; memoized, because visibility checks parse the same catalogue entries again and again.
 */
export function parseCanonicalLabel(text: string): Label {
  let label = cache.get(text);
  if (label !== undefined) return label;
  if (typeof text !== 'string') return invalidLabel('a label must be a string');
  const at = text.indexOf(ACCESS_SEPARATOR);
  const banner = parseBanner(at < 0 ? text : text.slice(0, at));
  if (at < 0) label = banner;
  else {
    const cnf = accessCnf(text.slice(at + ACCESS_SEPARATOR.length));
    label = cnf.length === 0 ? banner : normalizeLabel({ ...banner, access: renderCnf(cnf) });
  }
  if (cache.size >= CACHE_LIMIT) cache.clear();
  cache.set(text, label);
  return label;
}
