import { EnclaveError } from '../errors/index.js';
import { accessCnf, renderCnf, type Cnf } from './access-cnf.js';
import { labelScheme, NOFORN, onSchemeChange, REL_TO } from './scheme.js';

export interface Label {
  /** A level name of the configured scheme, e.g. 'SECRET'. */
  level: string;
  /** SCI and SAP compartments, sorted unique, parents included: ['SAR-ABC', 'SI', 'SI-G', 'SI-G-ABCD', 'TK']. */
  compartments: readonly string[];
  /** Dissemination controls by banner name, sorted unique, e.g. ['NOFORN', 'ORCON']. */
  controls: readonly string[];
  /** REL TO countries (trigraphs, opaque tetragraphs), sorted, tetragraphs like FVEY expanded; includes USA. */
  releasableTo: readonly string[];
  /** Optional normalized Accumulo access expression (need-to-know). */
  access?: string;
}

/** A principal's clearance: set by an admin only. See docs/labels.md for how its REL TO is read. */
export interface Clearance {
  label: Label;
  authorizations: readonly string[];
}

/**
 * The lattice form of a label. Releasability becomes the set of countries it may go to (`null` = no foreign
 * disclosure marking, `['USA']` = NOFORN), so REL TO roll-up is set intersection and NOFORN its bottom case.
 * Controls split into restrictive ones (rolled up by union; capped controls such as FOUO are *implied* above
 * their max level, which is why a classified banner never shows FOUO) and permissive ones (RELIDO, intersected).
 */
export interface Effective {
  rank: number;
  compartments: readonly string[];
  restrictive: readonly string[];
  permissive: readonly string[];
  allowed: readonly string[] | null;
  access: Cnf;
}

export const invalidLabel = (message: string): never => {
  throw new EnclaveError('invalid_label', `Invalid security label: ${message}.`, { param: 'label' });
};

const SCI_TOKEN = /^([A-Z0-9]+)(-[A-Z0-9]+){0,2}$/;
const SAR_TOKEN = /^SAR-([A-Z0-9]+(?:_[A-Z0-9]+)*)(-[A-Z0-9]+){0,2}$/;
const sortUnique = (xs: Iterable<string>): string[] => [...new Set(xs)].sort();

function checkCompartment(token: string): void {
  const scheme = labelScheme();
  const sar = SAR_TOKEN.exec(token);
  if (sar) {
    if (scheme.sarPrograms && !scheme.sarPrograms.has(sar[1] ?? ''))
      invalidLabel(`unknown SAP program '${sar[1]}'`);
    return;
  }
  const sci = SCI_TOKEN.exec(token);
  if (!sci || !scheme.sciControls.has(sci[1] ?? '')) {
    invalidLabel(
      `unknown compartment '${token}' (SCI control systems: ${[...scheme.sciControls].join(', ')}; SAP as SAR-<program>)`,
    );
  }
}

/** Adds the parents a sub-compartment implies: SI-G-ABCD → SI-G, SI (SAR-X-Y → SAR-X). */
function withParents(tokens: readonly string[]): string[] {
  const out = new Set<string>();
  for (const t of tokens) {
    const parts = t.split('-');
    const first = t.startsWith('SAR-') ? 2 : 1;
    for (let i = first; i <= parts.length; i++) out.add(parts.slice(0, i).join('-'));
  }
  return [...out].sort();
}

/** Expands tetragraphs and checks every country; returns the sorted set. */
export function expandCountries(codes: readonly string[]): string[] {
  const scheme = labelScheme();
  const out: string[] = [];
  for (const code of codes) {
    const members = scheme.tetragraphs.get(code);
    if (members) out.push(...members);
    else if (members === null || scheme.countries.has(code)) out.push(code);
    else invalidLabel(`unknown country or tetragraph '${code}' in REL TO`);
  }
  return sortUnique(out);
}

/** Validates a label and turns it into its lattice form; every invalid combination is refused here. */
export function toEffectiveUncached(label: Label): Effective {
  const scheme = labelScheme();
  const rank = scheme.rank.get(label.level);
  if (rank === undefined) {
    return invalidLabel(
      `unknown level '${label.level}' (levels: ${scheme.levels.map((l) => l.name).join(', ')})`,
    );
  }
  for (const c of label.compartments) checkCompartment(c);
  const compartments = withParents(label.compartments);
  if (compartments.length > 0 && rank < scheme.classifiedRank) {
    invalidLabel(`SCI and SAP compartments need ${scheme.levels[scheme.classifiedRank]?.name} or higher`);
  }
  const restrictive: string[] = [];
  const permissive: string[] = [];
  let noforn = false;
  for (const name of label.controls) {
    const spec = scheme.controlByName.get(name);
    if (!spec || name === REL_TO) return invalidLabel(`unknown dissemination control '${name}'`);
    if (name === NOFORN) noforn = true;
    else (spec.rollUp === 'intersection' ? permissive : restrictive).push(name);
    const cap = scheme.capped.find((c) => c.name === name);
    if (cap && rank > cap.maxRank)
      invalidLabel(`${name} applies only at ${scheme.levels[cap.maxRank]?.name} or lower`);
  }
  let allowed: string[] | null = null;
  if (label.releasableTo.length > 0) {
    if (noforn) invalidLabel('NOFORN and REL TO cannot be combined');
    allowed = expandCountries(label.releasableTo);
    if (!allowed.includes('USA')) invalidLabel('a REL TO list must include USA');
  } else if (noforn) allowed = ['USA'];
  if (permissive.length > 0 && allowed?.length === 1)
    invalidLabel(`${permissive.join(', ')} cannot be combined with NOFORN`);
  return close({
    rank,
    compartments,
    restrictive: sortUnique(restrictive),
    permissive: sortUnique(permissive),
    allowed,
    access: accessCnf(label.access ?? ''),
  });
}

/** The closure that keeps lattice results well-formed (see docs/labels.md, "Roll-up"). */
export function close(e: Effective): Effective {
  const implied = labelScheme()
    .capped.filter((c) => e.rank > c.maxRank)
    .map((c) => c.name);
  const restrictive = implied.every((n) => e.restrictive.includes(n))
    ? e.restrictive
    : sortUnique([...e.restrictive, ...implied]);
  const permissive = e.allowed?.length === 1 ? [] : e.permissive;
  return restrictive === e.restrictive && permissive === e.permissive ? e : { ...e, restrictive, permissive };
}

let effectiveCache = new WeakMap<Label, Effective>();
/** The frozen label of each lattice value already turned back (a turn normalizes the same few labels often). */
let labelCache = new WeakMap<Effective, Label>();
// Ranks, implied controls and level names depend on the vocabulary.
onSchemeChange(() => {
  effectiveCache = new WeakMap();
  labelCache = new WeakMap();
});

/** Memoized for frozen labels (all labels this module returns), which is what keeps visibility checks cheap. */
export function toEffective(label: Label): Effective {
  let e = effectiveCache.get(label);
  if (e === undefined) {
    e = toEffectiveUncached(label);
    if (Object.isFrozen(label)) effectiveCache.set(label, e);
  }
  return e;
}

/** The frozen label of a lattice value; the same object for the same value (both are immutable). */
export function fromEffective(e: Effective): Label {
  const known = labelCache.get(e);
  if (known !== undefined) return known;
  const scheme = labelScheme();
  const hidden = new Set(scheme.capped.filter((c) => e.rank > c.maxRank).map((c) => c.name));
  const controls = [...e.restrictive.filter((n) => !hidden.has(n)), ...e.permissive];
  const noforn = e.allowed?.length === 1;
  if (noforn) controls.push(NOFORN);
  const label: Label = {
    level: scheme.levels[e.rank]?.name ?? '',
    compartments: Object.freeze([...e.compartments]),
    controls: Object.freeze(controls.sort()),
    releasableTo: Object.freeze(e.allowed && !noforn ? [...e.allowed] : []),
  };
  if (e.access.length > 0) label.access = renderCnf(e.access);
  Object.freeze(label);
  effectiveCache.set(label, e);
  labelCache.set(e, label);
  return label;
}

/** Validates and normalizes any label object into the frozen canonical one. */
export const normalizeLabel = (label: Label): Label => fromEffective(toEffective(label));
