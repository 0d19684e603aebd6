import type { Services } from '../app/services.js';
import { isEnclaveError } from '../errors/index.js';
import { canonicalLabel, UNCLASSIFIED } from '../labels/index.js';
import { unauthenticated, verifyApiKey } from './api-keys.js';
import type { Principal } from './principal.js';

/** Three base64url segments: a JWT, verified as an OIDC token; anything else is an API key. */
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

export interface AuthContext {
  requestId: string;
  route: string;
}

/**
 * Turns an Authorization header into a Principal or throws 401. Every refusal looks the same to the client;
 * the reason goes to the audit log. Both outcomes are audited before the request goes on, and a failed audit
 * append fails the request (fail-closed).
 */
export async function authenticate(
  services: Services,
  header: string | undefined,
  context: AuthContext,
): Promise<Principal> {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  const token = match?.[1];
  let outcome: { principal: Principal } | { denied: string; tenant?: string };
  if (!token) outcome = { denied: 'missing' };
  else if (JWT_SHAPE.test(token) && services.oidc) outcome = await verifyOidc(services, token);
  else outcome = await verifyApiKey(services.store, services.serverSecret, token);

  const label = canonicalLabel(UNCLASSIFIED);
  const detail = { requestId: context.requestId, route: context.route };
  if ('denied' in outcome) {
    await services.audit.append({
      type: 'auth.denied',
      time: Date.now(),
      tenant: outcome.tenant ?? '-',
      principal: 'anonymous',
      decision: 'deny',
      rule: `auth.${outcome.denied}`,
      label,
      detail,
    });
    throw unauthenticated();
  }
  const { principal } = outcome;
  await services.audit.append({
    type: 'auth.ok',
    time: Date.now(),
    tenant: principal.tenantId,
    principal: principal.subject,
    decision: 'allow',
    rule: `auth.${principal.via}`,
    label,
    detail,
  });
  return principal;
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
