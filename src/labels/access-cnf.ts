import { EnclaveError } from '../errors/index.js';
import { parseAccessExpression, quoteToken, type AccessNode } from './access-expression.js';

/**
 * Access expressions in minimal conjunctive normal form: a list of clauses (each a sorted set of tokens, OR-ed),
 * AND-ed together, with no clause a superset of another. Access expressions have no negation, so they are
 * monotone boolean functions, whose minimal CNF (prime implicates) is unique: two expressions mean the same iff
 * their CNFs are equal. That makes the CNF the canonical form, makes `and` (the label lub) a cheap union, and
 * makes the lattice laws hold exactly. `[]` is the always-true expression.
 */
export type Clause = readonly string[];
export type Cnf = readonly Clause[];

/** Distributing `|` over `&` can grow exponentially; past this we refuse rather than spend the memory. */
export const MAX_CLAUSES = 1024;

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

function compareClauses(a: Clause, b: Clause): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const c = cmp(a[i] ?? '', b[i] ?? '');
    if (c !== 0) return c;
  }
  return a.length - b.length;
}

/** Both sorted: is every token of `a` in `b`? */
function isSubset(a: Clause, b: Clause): boolean {
  let j = 0;
  for (const t of a) {
    while (j < b.length && (b[j] ?? '') < t) j++;
    if (b[j] !== t) return false;
    j++;
  }
  return true;
}

function unionClause(a: Clause, b: Clause): Clause {
  return [...new Set([...a, ...b])].sort(cmp);
}

const tooComplex = (): never => {
  throw new EnclaveError(
    'invalid_label',
    `Invalid access expression: too complex (over ${MAX_CLAUSES} clauses once normalized); factor it or use fewer alternatives.`,
    { param: 'access' },
  );
};

function minimize(clauses: Clause[]): Cnf {
  if (clauses.length > MAX_CLAUSES) tooComplex();
  // Shorter clauses first, so a clause can only be absorbed by one already kept.
  const sorted = [...clauses].sort((a, b) => a.length - b.length || compareClauses(a, b));
  const kept: Clause[] = [];
  for (const c of sorted) if (!kept.some((k) => isSubset(k, c))) kept.push(c);
  return kept.sort(compareClauses);
}

export const and = (a: Cnf, b: Cnf): Cnf => minimize([...a, ...b]);

export function or(a: Cnf, b: Cnf): Cnf {
  if (a.length === 0 || b.length === 0) return [];
  // Checked before building the product: absorption rarely saves a product this large.
  if (a.length * b.length > MAX_CLAUSES * 4) tooComplex();
  const out: Clause[] = [];
  for (const x of a) for (const y of b) out.push(unionClause(x, y));
  return minimize(out);
}

export function toCnf(node: AccessNode | null): Cnf {
  if (node === null) return [];
  if (node.kind === 'token') return [[node.value]];
  const parts = node.children.map(toCnf);
  return parts.slice(1).reduce(node.kind === 'and' ? and : or, parts[0] ?? []);
}

/** Does `a` imply `b`? For monotone CNFs: every clause of `b` contains some clause of `a`. */
export const implies = (a: Cnf, b: Cnf): boolean => b.every((cb) => a.some((ca) => isSubset(ca, cb)));

export const evaluateCnf = (cnf: Cnf, has: (token: string) => boolean): boolean =>
  cnf.every((c) => c.some(has));

export const cnfEquals = (a: Cnf, b: Cnf): boolean =>
  a.length === b.length && a.every((c, i) => compareClauses(c, b[i] ?? []) === 0);

/** The canonical text: `A&(B|C)`; a single clause needs no parentheses (`B|C`). */
export function renderCnf(cnf: Cnf): string {
  if (cnf.length === 1) return (cnf[0] ?? []).map(quoteToken).join('|');
  return cnf
    .map((c) => (c.length === 1 ? quoteToken(c[0] ?? '') : `(${c.map(quoteToken).join('|')})`))
    .join('&');
}

const cache = new Map<string, Cnf>();
const CACHE_LIMIT = 10_000;

/** Parses and normalizes, memoized: label catalogues repeat the same few expressions. */
export function accessCnf(text: string): Cnf {
  let cnf = cache.get(text);
  if (cnf === undefined) {
    cnf = Object.freeze(toCnf(parseAccessExpression(text)).map((c) => Object.freeze([...c])));
    if (cache.size >= CACHE_LIMIT) cache.clear();
    cache.set(text, cnf);
  }
  return cnf;
}
