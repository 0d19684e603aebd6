import { isEnclaveError } from '../errors/index.js';
import type { ForgetReceipt } from '../store/repos/memory-repo.js';
import type { Store } from '../store/store.js';
import { responseScope, userScope } from './content-scopes.js';
import type { Encryption } from './encryption.js';
import { forgetMemory } from './memory-forget.js';

export interface ErasureReport {
  conversations: number;
  responses: number;
  /** Safety review items of the user's requests. */
  reviews: number;
  /** Durable runs of the user whose response was never stored (queued, cancelled, failed, parked). */
  runs: number;
  /** Long-term memory rows of the user (under each name memory knows them by, see `memoryUsersOf`). */
  memory: ForgetReceipt;
  /** Keys of the `user:` scope destroyed (each conversation's and response's receipt names its own). */
  userKeyIds: string[];
}

/**
 * The names long-term memory may know a subject by: memory owners are written as `Enclave-On-Behalf-Of`
 * names users (`key:<key id>`, `oidc:<subject>`), and `enclave memory import --user` takes any name. A
 * subject given in one of the prefixed forms is taken as exactly that memory user.
 */
export function memoryUsersOf(subject: string): string[] {
  if (/^(key|oidc):./u.test(subject)) return [subject];
  return [subject, `key:${subject}`, `oidc:${subject}`];
}

/**
 * Erases what a user stored in a tenant: every conversation and response they created is crypto-shredded
 * and deleted (one deletion receipt per scope in the audit log), their long-term memory is forgotten (every
 * memory table; a memory deletion receipt per name), then their `user:` scopes are shredded.
 * `store` is the sealing store (`services.store`), whose deletes shred first. Idempotent: a rerun after a
 * failure picks up what is left.
 */
export async function eraseUser(
  store: Store,
  encryption: Pick<Encryption, 'shred' | 'keys'>,
  tenant: string,
  subject: string,
): Promise<ErasureReport> {
  // An erasure is not a read by the user: it reaches every label of the tenant.
  const everyLabel = { tenantId: tenant, labelIds: (await store.labels.list()).map((l) => l.id) };
  const report: ErasureReport = {
    conversations: 0,
    responses: 0,
    reviews: 0,
    runs: 0,
    memory: { records: 0, sources: 0, quarantined: 0 },
    userKeyIds: [],
  };
  for (const id of await store.responses.idsByPrincipal(tenant, subject)) {
    if (await store.responses.delete(everyLabel, id)) report.responses += 1;
  }
  for (const id of await store.conversations.idsByPrincipal(tenant, subject)) {
    if (await store.conversations.delete(everyLabel, id)) report.conversations += 1;
  }
  report.runs = await eraseUnstoredRuns(store, encryption, tenant, subject);
  // Review items hold the user's flagged texts, sealed under `user:`: delete them before the key goes.
  report.reviews = await store.safety.deleteByRequester(tenant, subject);
  // Memory is sealed under the user's scope: the rows go first (a receipt per name), then the keys.
  const users = memoryUsersOf(subject);
  for (const userId of users) {
    const forgot = await forgetMemory(
      store.memory,
      encryption.keys.auditLog,
      { by: 'user', tenantId: tenant, userId },
      true,
    );
    report.memory.records += forgot.records;
    report.memory.sources += forgot.sources;
    report.memory.quarantined += forgot.quarantined;
  }
  for (const scope of new Set([userScope(subject), ...users.map(userScope)]))
    report.userKeyIds.push(...(await encryption.shred(tenant, scope)).keyIds);
  return report;
}

/**
 * A response run's request body, steps and events are sealed under `response:<id>`; a run whose response
 * was stored went with it above. The rest (queued, cancelled, failed, parked on an approval) are found by
 * the principal inside their sealed input, then shredded (receipt first) and deleted.
 */
async function eraseUnstoredRuns(
  store: Store,
  encryption: Pick<Encryption, 'shred'>,
  tenant: string,
  subject: string,
): Promise<number> {
  let erased = 0;
  for (const id of await store.runs.idsOfTenant(tenant, 'response')) {
    // A run left shredded by an interrupted erasure no longer opens: its content is gone already.
    const run = await store.runs.byId(id).catch((error: unknown) => {
      if (isEnclaveError(error) && error.code === 'decrypt_failed') return undefined;
      throw error;
    });
    if ((run?.input as { principal?: unknown } | undefined)?.principal !== subject) continue;
    await encryption.shred(tenant, responseScope(id));
    await store.approvals.deleteByRun(id);
    if (await store.runs.delete(id)) erased += 1;
  }
  return erased;
}
