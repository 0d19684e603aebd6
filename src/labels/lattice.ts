import { and, implies, or } from './access-cnf.js';
import { close, fromEffective, toEffective, type Effective, type Label } from './label.js';
import { onSchemeChange } from './scheme.js';

/**
 * The label lattice (see docs/labels.md). Each part of a label is ordered on its own and the order is their
 * product: level by rank; compartments and restrictive controls by inclusion; permissive controls (RELIDO) and
 * releasability by reverse inclusion (fewer countries is more restricted, NOFORN = {USA} is the most); access
 * expressions by implication (lub is their conjunction, glb their disjunction). lub is followed by the closure
 * that keeps labels well-formed (implied FOUO above UNCLASSIFIED, RELIDO dropped under NOFORN); the fixed points
 * of a closure operator form a lattice, so the laws hold exactly and the property tests check them.
 */
const sortedSubset = (a: readonly string[], b: readonly string[]): boolean => {
  if (a.length > b.length) return false;
  let j = 0;
  for (const x of a) {
    while (j < b.length && (b[j] ?? '') < x) j++;
    if (b[j] !== x) return false;
    j++;
  }
  return true;
};
const union = (a: readonly string[], b: readonly string[]): string[] => [...new Set([...a, ...b])].sort();
const intersection = (a: readonly string[], b: readonly string[]): string[] => a.filter((x) => b.includes(x));

export function effectiveDominates(a: Effective, b: Effective): boolean {
  return (
    a.rank >= b.rank &&
    sortedSubset(b.compartments, a.compartments) &&
    sortedSubset(b.restrictive, a.restrictive) &&
    sortedSubset(a.permissive, b.permissive) &&
    (b.allowed === null || (a.allowed !== null && sortedSubset(a.allowed, b.allowed))) &&
    implies(a.access, b.access)
  );
}

/** `a` is at least as restricted as `b` in every part (no read up, no write down). */
export const dominates = (a: Label, b: Label): boolean => effectiveDominates(toEffective(a), toEffective(b));

// Roll-ups of lattice values already computed: a turn rolls up the same few labels (its history's, the
// request's) again and again. Keyed by the memoized lattice values of frozen labels; the result is frozen.
let lubs = new WeakMap<Effective, WeakMap<Effective, Label>>();
onSchemeChange(() => (lubs = new WeakMap()));

/** CAPCO roll-up (high-water mark): what a document combining `a` and `b` must be marked. */
export function lub(a: Label, b: Label): Label {
  const x = toEffective(a);
  const y = toEffective(b);
  let withX = lubs.get(x);
  if (withX === undefined) lubs.set(x, (withX = new WeakMap()));
  let label = withX.get(y);
  if (label === undefined) withX.set(y, (label = rollUp(x, y)));
  return label;
}

function rollUp(x: Effective, y: Effective): Label {
  return fromEffective(
    close({
      rank: Math.max(x.rank, y.rank),
      compartments: union(x.compartments, y.compartments),
      restrictive: union(x.restrictive, y.restrictive),
      permissive: intersection(x.permissive, y.permissive),
      allowed:
        x.allowed === null ? y.allowed : y.allowed === null ? x.allowed : intersection(x.allowed, y.allowed),
      access: and(x.access, y.access),
    }),
  );
}

/** The most restricted label both `a` and `b` dominate. */
export function glb(a: Label, b: Label): Label {
  const x = toEffective(a);
  const y = toEffective(b);
  return fromEffective({
    rank: Math.min(x.rank, y.rank),
    compartments: intersection(x.compartments, y.compartments),
    restrictive: intersection(x.restrictive, y.restrictive),
    permissive: union(x.permissive, y.permissive),
    allowed: x.allowed === null || y.allowed === null ? null : union(x.allowed, y.allowed),
    access: or(x.access, y.access),
  });
}
