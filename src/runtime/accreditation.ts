import {
  dominates,
  normalizeLabel,
  parseCanonicalLabel,
  renderBanner,
  UNCLASSIFIED,
  type Label,
} from '../labels/index.js';
import type { EndpointCheck, ModelEndpoint } from '../providers/index.js';

/**
 * Accredited model routing: an endpoint may receive a request only if its accreditation range dominates the
 * turn's context label (request, history, recalled memory, tool output). Unaccredited endpoints are skipped
 * by the router before any contact. An endpoint with no accreditation configured is UNCLASSIFIED-only —
 * except the built-in `local` provider, which runs inside this process and sends data nowhere.
 */
export function accreditedFor(context: Label): EndpointCheck {
  return (endpoint) => {
    const range = accreditationOf(endpoint);
    if (range === 'unbounded' || dominates(range, context)) return true;
    return `accredited only up to ${renderBanner(range)}`;
  };
}

const ranges = new Map<string, Label>();

function accreditationOf(endpoint: ModelEndpoint): Label | 'unbounded' {
  const a = endpoint.accreditation;
  if (!a) return endpoint.provider === 'local' ? 'unbounded' : UNCLASSIFIED;
  const key = `${a.label ?? ''}\u0001${a.compartments.join(',')}`;
  let range = ranges.get(key);
  if (!range) {
    const base = a.label ? parseCanonicalLabel(a.label) : UNCLASSIFIED;
    range = normalizeLabel({
      ...base,
      compartments: [...new Set([...base.compartments, ...a.compartments])].sort(),
    });
    ranges.set(key, range);
  }
  return range;
}
