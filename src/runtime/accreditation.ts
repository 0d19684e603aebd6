import {
  canRead,
  normalizeLabel,
  parseCanonicalLabel,
  renderBanner,
  UNCLASSIFIED,
  type Clearance,
  type Label,
} from '../labels/index.js';
import type { EndpointCheck, ModelEndpoint } from '../providers/index.js';

/**
 * Accredited model routing: an endpoint may receive a request only if its accreditation admits the turn's
 * context label (request, history, recalled memory, tool output) — checked with the same lattice rules as a
 * person's clearance (src/labels `canRead`):
 * - level and compartments: the accreditation must dominate the label;
 * - releasability: `releasableTo` names the nations that operate the endpoint (absent: a U.S. system), and the
 *   label must be releasable to each, so NOFORN data only goes to U.S.-operated endpoints;
 * - need-to-know: a label's access expression must be satisfied by the endpoint's `authorizations`
 *   (none by default: data with an access expression goes to no remote endpoint unless configured so).
 * Dissemination controls (ORCON, PROPIN, …) travel with the data and do not gate routing, as for readers.
 * Unaccredited endpoints are skipped by the router before any contact. An endpoint with no accreditation is
 * UNCLASSIFIED-only — except the built-in `local` provider, which runs in this process and sends data nowhere.
 */
export function accreditedFor(context: Label): EndpointCheck {
  return (endpoint) => admits(endpoint, context);
}

/**
 * The same check for any remote service Enclave sends content to besides models (memory's embeddings
 * endpoint): true, or why not.
 */
export function admits(
  target: Pick<ModelEndpoint, 'provider' | 'accreditation'>,
  context: Label,
): true | string {
  const range = accreditationOf(target);
  if (range === 'unbounded' || canRead(range, context)) return true;
  return `accredited only for ${describe(range)}`;
}

const ranges = new Map<string, Clearance>();

function accreditationOf(
  endpoint: Pick<ModelEndpoint, 'provider' | 'accreditation'>,
): Clearance | 'unbounded' {
  const a = endpoint.accreditation;
  if (!a) return endpoint.provider === 'local' ? 'unbounded' : { label: UNCLASSIFIED, authorizations: [] };
  const key = JSON.stringify(a);
  let range = ranges.get(key);
  if (!range) {
    const base = a.label ? parseCanonicalLabel(a.label) : UNCLASSIFIED;
    const nations = a.releasableTo ?? (base.releasableTo.length ? base.releasableTo : []);
    const label = normalizeLabel({
      ...base,
      compartments: [...new Set([...base.compartments, ...a.compartments])].sort(),
      // A clearance's REL TO lists the reader's nationalities; USA alone is a U.S. system (no REL TO).
      releasableTo:
        nations.length === 0 || (nations.length === 1 && nations[0] === 'USA') ? [] : withUsa(nations),
      controls: base.controls.filter((c) => c !== 'NOFORN'),
    });
    range = { label, authorizations: [...(a.authorizations ?? [])].sort() };
    ranges.set(key, range);
  }
  return range;
}

const withUsa = (nations: readonly string[]): string[] => [...new Set(['USA', ...nations])].sort();

function describe(range: Clearance): string {
  const auths = range.authorizations.length ? ` with authorizations ${range.authorizations.join(',')}` : '';
  return `${renderBanner(range.label)}${auths}`;
}
