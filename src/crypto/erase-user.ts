import type { Store } from '../store/store.js';
import { userScope } from './content-scopes.js';
import type { Encryption } from './encryption.js';

export interface ErasureReport {
  conversations: number;
  responses: number;
  /** Safety review items of the user's requests. */
  reviews: number;
  /** Keys of the `user:` scope destroyed (each conversation's and response's receipt names its own). */
  userKeyIds: string[];
}

/**
 * Erases what a user stored in a tenant: every conversation and response they created is crypto-shredded
 * and deleted (one deletion receipt per scope in the audit log), then their `user:` scope is shredded.
 * `store` is the sealing store (`services.store`), whose deletes shred first. Idempotent: a rerun after a
 * failure picks up what is left.
 */
export async function eraseUser(
  store: Store,
  encryption: Pick<Encryption, 'shred'>,
  tenant: string,
  subject: string,
): Promise<ErasureReport> {
  // An erasure is not a read by the user: it reaches every label of the tenant.
  const everyLabel = { tenantId: tenant, labelIds: (await store.labels.list()).map((l) => l.id) };
  const report: ErasureReport = { conversations: 0, responses: 0, reviews: 0, userKeyIds: [] };
  for (const id of await store.responses.idsByPrincipal(tenant, subject)) {
    if (await store.responses.delete(everyLabel, id)) report.responses += 1;
  }
  for (const id of await store.conversations.idsByPrincipal(tenant, subject)) {
    if (await store.conversations.delete(everyLabel, id)) report.conversations += 1;
  }
  // Review items hold the user's flagged texts, sealed under `user:`: delete them before the key goes.
  report.reviews = await store.safety.deleteByRequester(tenant, subject);
  // UNFINISHED: long-term memory rows of the user are not deleted here (src/memory does not seal them
  // under `user:` yet); shredding the scope covers whatever is sealed under it.
  report.userKeyIds = (await encryption.shred(tenant, userScope(subject))).keyIds;
  return report;
}
