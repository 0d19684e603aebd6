import { evaluateCnf } from './access-cnf.js';
import { parseCanonicalLabel } from './canonical.js';
import { fromEffective, toEffective, type Clearance, type Effective, type Label } from './label.js';

/**
 * Reading rules. A clearance is a label read as "what this principal may see" plus authorizations:
 * - level and compartments: the clearance must dominate the label (no read up);
 * - releasability: the clearance's REL TO lists the reader's nationalities (a clearance without one, or with
 *   NOFORN, is a U.S. person's); the label must be releasable to every one of them, so
 *   NOFORN needs a U.S. reader and `REL TO USA, GBR` admits a reader whose clearance says `REL TO USA, GBR`;
 * - dissemination controls (ORCON, PROPIN, …) are handling caveats, not clearance attributes: they do not gate
 *   reading, they travel with the data through lub (high-water mark);
 * - the label's access expression must be satisfied by the clearance's authorizations. A clearance's own access
 *   expression is ignored.
 */
const authSets = new WeakMap<readonly string[], ReadonlySet<string>>();
function authSet(auths: readonly string[]): ReadonlySet<string> {
  let set = authSets.get(auths);
  if (set === undefined) authSets.set(auths, (set = new Set(auths)));
  return set;
}

const nationalities = (c: Effective): readonly string[] => c.allowed ?? ['USA'];

function readable(c: Effective, l: Effective, auths: ReadonlySet<string>): boolean {
  if (l.rank > c.rank) return false;
  for (const x of l.compartments) if (!c.compartments.includes(x)) return false;
  if (l.allowed !== null) for (const n of nationalities(c)) if (!l.allowed.includes(n)) return false;
  return evaluateCnf(l.access, (t) => auths.has(t));
}

export const canRead = (clearance: Clearance, label: Label): boolean =>
  readable(toEffective(clearance.label), toEffective(label), authSet(clearance.authorizations));

/**
 * Ids of the catalogue labels `clearance` may read, in catalogue order. Pure: the answer depends only on its
 * arguments, so callers may cache it per (clearance, catalogue version); parsed labels are memoized by their
 * canonical text. An entry that no longer parses (vocabulary changed) is invisible: fail closed.
 */
export function visibleLabelIds(
  catalog: readonly { id: string; canonical: string }[],
  clearance: Clearance,
): string[] {
  const c = toEffective(clearance.label);
  const auths = authSet(clearance.authorizations);
  const ids: string[] = [];
  for (const entry of catalog) {
    let l: Effective;
    try {
      l = toEffective(parseCanonicalLabel(entry.canonical));
    } catch {
      continue;
    }
    if (readable(c, l, auths)) ids.push(entry.id);
  }
  return ids;
}

/**
 * An agent acting for a user sees only what both may see: lower level, common compartments, every nationality
 * of either (so the label must be releasable to both), common authorizations.
 */
export function intersectClearance(agent: Clearance, user: Clearance): Clearance {
  const a = toEffective(agent.label);
  const u = toEffective(user.label);
  const nations = [...new Set([...nationalities(a), ...nationalities(u)])].sort();
  const label = fromEffective({
    rank: Math.min(a.rank, u.rank),
    compartments: a.compartments.filter((x) => u.compartments.includes(x)),
    restrictive: [],
    permissive: [],
    allowed: nations.length === 1 && nations[0] === 'USA' ? null : nations,
    access: [],
  });
  const userAuths = authSet(user.authorizations);
  return {
    label,
    authorizations: Object.freeze([...new Set(agent.authorizations.filter((x) => userAuths.has(x)))].sort()),
  };
}

/**
 * Whether `reader` may read everything `other` may: level at least as high, every compartment, every
 * authorization, and no nationality `other` lacks (a label releasable to all of `other`'s nationalities must be
 * releasable to the reader's). For showing one principal's working data — a run's pending tool call — to
 * another (a reviewer) when its exact label is not known yet: bounded by what its owner could read.
 */
export function coversClearance(reader: Clearance, other: Clearance): boolean {
  const r = toEffective(reader.label);
  const o = toEffective(other.label);
  if (r.rank < o.rank) return false;
  if (!o.compartments.every((x) => r.compartments.includes(x))) return false;
  const theirs = nationalities(o);
  if (!nationalities(r).every((n) => theirs.includes(n))) return false;
  const auths = authSet(reader.authorizations);
  return other.authorizations.every((a) => auths.has(a));
}
