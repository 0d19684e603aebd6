import {
  canonicalLabel,
  intersectClearance,
  parseBanner,
  parseCanonicalLabel,
  type Label,
} from '../labels/index.js';
import type { Principal } from './principal.js';

/**
 * An agent acting for a user. The agent authenticates with its own credential (Authorization) and presents
 * the user's credential — an OIDC access token the user handed it, or the user's API key — in
 * `Enclave-On-Behalf-Of`. Both are verified the same way; the request then runs with the intersection of the
 * two clearances, so the agent never reads more than either could. Nothing in a body, prompt or model output
 * can name a user or raise a clearance: only these two verified credentials do.
 */
export const ON_BEHALF_OF_HEADER = 'enclave-on-behalf-of';

/** Why a delegation was refused (the client sees the generic 401; this goes to the audit trail). */
export type DelegationDenial = 'agent_role' | 'user_role' | 'tenant_mismatch' | 'self' | 'nested';

/**
 * The effective principal of `agent` acting for `user`, or a denial. Only a principal with role `user` may act
 * for another `user`: admins, auditors and reviewers act as themselves only, and an already delegated
 * principal cannot delegate again.
 */
export function actOnBehalfOf(
  agent: Principal,
  user: Principal,
): { principal: Principal } | { denied: DelegationDenial } {
  if (agent.onBehalfOf !== undefined || user.onBehalfOf !== undefined) return { denied: 'nested' };
  if (agent.role !== 'user') return { denied: 'agent_role' };
  if (user.role !== 'user') return { denied: 'user_role' };
  if (agent.tenantId !== user.tenantId) return { denied: 'tenant_mismatch' };
  if (agent.subject === user.subject && agent.via === user.via) return { denied: 'self' };
  const effective = intersectClearance(
    { label: clearanceLabel(agent.clearance), authorizations: agent.authorizations },
    { label: clearanceLabel(user.clearance), authorizations: user.authorizations },
  );
  // The agent's own default label does not apply to the pair: an unlabelled request takes the intersection.
  const { defaultLabel: _agentDefault, ...acting } = agent;
  return {
    principal: {
      ...acting,
      clearance: canonicalLabel(effective.label),
      authorizations: effective.authorizations,
      onBehalfOf: `${user.via === 'oidc' ? 'oidc' : 'key'}:${user.subject}`,
    },
  };
}

/** Clearances are stored canonically; keys created by hand may hold a banner. */
function clearanceLabel(text: string): Label {
  try {
    return parseCanonicalLabel(text);
  } catch {
    return parseBanner(text);
  }
}
