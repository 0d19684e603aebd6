import type { Services } from '../app/services.js';
import { isEnclaveError } from '../errors/index.js';
import { canonicalLabel, UNCLASSIFIED } from '../labels/index.js';
import { unauthenticated, verifyApiKey } from './api-keys.js';
import { AuthEntry } from './auth-entry.js';
import { actOnBehalfOf } from './on-behalf-of.js';
import type { Principal } from './principal.js';

/** Three base64url segments: a JWT, verified as an OIDC token; anything else is an API key. */
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

export interface AuthContext {
  requestId: string;
  route: string;
  /** The `Enclave-On-Behalf-Of` header: the credential of the user an agent acts for (on-behalf-of.ts). */
  onBehalfOf?: string | undefined;
}

/**
 * Turns an Authorization header into a Principal or throws 401. Every refusal looks the same to the client;
 * the reason goes to the audit log, before the 401 is thrown. The `auth.ok` entry is returned unrecorded
 * (auth-entry.ts): the caller records it before the request has any effect or gets an answer (fail-closed); a
 * turn commits it with its first audit commit (pending-audit.ts), which saves one durable commit per request.
 */
export async function authenticateDeferred(
  services: Services,
  header: string | undefined,
  context: AuthContext,
): Promise<{ principal: Principal; auth: AuthEntry }> {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  let outcome = await verifyToken(services, match?.[1]);
  if ('principal' in outcome && context.onBehalfOf !== undefined)
    outcome = await delegate(services, outcome.principal, context.onBehalfOf);

  const label = canonicalLabel(UNCLASSIFIED);
  const detail = { requestId: context.requestId, route: context.route };
  if ('denied' in outcome) {
    await services.audit.append({
      type: 'auth.denied',
      time: Date.now(),
      tenant: outcome.tenant ?? '-',
      principal: outcome.agent ?? 'anonymous',
      decision: 'deny',
      rule: `auth.${outcome.denied}`,
      label,
      detail,
    });
    throw unauthenticated();
  }
  const { principal } = outcome;
  const auth = new AuthEntry(services.audit, {
    type: 'auth.ok',
    time: Date.now(),
    tenant: principal.tenantId,
    principal: principal.subject,
    ...(principal.onBehalfOf !== undefined ? { onBehalfOf: principal.onBehalfOf } : {}),
    decision: 'allow',
    rule: `auth.${principal.via}${principal.onBehalfOf !== undefined ? '.on_behalf_of' : ''}`,
    label,
    detail,
  });
  return { principal, auth };
}

type Outcome = { principal: Principal } | { denied: string; tenant?: string; agent?: string };

async function verifyToken(services: Services, token: string | undefined): Promise<Outcome> {
  if (!token) return { denied: 'missing' };
  if (JWT_SHAPE.test(token) && services.oidc) return verifyOidc(services, token);
  return verifyApiKey(services.store, services.serverSecret, token);
}

/** The user's credential, verified like the agent's; the request then runs with the intersection. */
async function delegate(services: Services, agent: Principal, header: string): Promise<Outcome> {
  const user = await verifyToken(services, /^(?:Bearer\s+)?(\S+)\s*$/i.exec(header)?.[1]);
  const refused = (why: string): Outcome => ({
    denied: `on_behalf_of.${why}`,
    tenant: agent.tenantId,
    agent: agent.subject,
  });
  if ('denied' in user) return refused(user.denied);
  const acting = actOnBehalfOf(agent, user.principal);
  return 'denied' in acting ? refused(acting.denied) : acting;
}

async function verifyOidc(
  services: Services,
  token: string,
): Promise<{ principal: Principal } | { denied: string }> {
  try {
    const identity = await services.oidc!.verify(token);
    return { principal: { ...identity, via: 'oidc' } };
  } catch (error) {
    if (!isEnclaveError(error) || error.code !== 'unauthenticated') throw error;
    const reason = error.cause instanceof Error ? error.cause.message.replace(/^oidc: /, '') : 'invalid';
    return { denied: `oidc.${reason.replace(/\s+/g, '_')}` };
  }
}
