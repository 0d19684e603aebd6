import type { Services } from '../app/services.js';
import { unauthenticated, verifyApiKey } from './api-keys.js';
import type { Principal } from './principal.js';

/**
 * Turns an Authorization header into a Principal or throws 401. Every refusal looks the same to the
 * client; the reason is only logged (and audited), so probing learns nothing.
 */
export async function authenticate(services: Services, header: string | undefined): Promise<Principal> {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  if (!match?.[1]) throw unauthenticated();
  const result = await verifyApiKey(services.store, services.serverSecret, match[1]);
  if ('denied' in result) {
    services.logger.info({ reason: result.denied }, 'authentication denied');
    throw unauthenticated();
  }
  return result.principal;
}
