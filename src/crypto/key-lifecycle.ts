import type { DataKeys } from './data-keys.js';

/**
 * Key-management events are about the system, not about one object: they are recorded under the system
 * principal at the lowest level (the canonical form of UNCLASSIFIED in the default scheme).
 */
const systemEntry = (type: string, tenant: string, detail: Record<string, unknown>) => ({
  type,
  time: Date.now(),
  tenant,
  principal: 'system',
  decision: 'allow',
  label: 'UNCLASSIFIED',
  detail,
});

export interface RewrapResult {
  toVersion: number;
  rewrapped: number;
  /** Keys that could not be rewrapped (e.g. under a retired version); they stay as they were. */
  failed: { keyId: string; reason: string }[];
}

/** Makes a new KEK version current: new data keys (hence new writes) use it from now on. */
export async function rotateKeys(keys: DataKeys): Promise<number> {
  const from = await keys.provider.currentVersion();
  // Audit first (versions only grow by one), so a rotation the log cannot record does not happen.
  await keys.auditLog.append(
    systemEntry('key.rotate', '-', { provider: keys.provider.name, fromVersion: from, version: from + 1 }),
  );
  return keys.provider.rotate();
}

/**
 * Re-wraps every data key under the current KEK version. Only the small wrapped keys are touched:
 * no content is read or decrypted, and ciphertexts stay valid (they name their key by id).
 */
export async function rewrapKeys(keys: DataKeys, batch = 200): Promise<RewrapResult> {
  const toVersion = await keys.provider.currentVersion();
  const result: RewrapResult = { toVersion, rewrapped: 0, failed: [] };
  let after: string | undefined;
  for (;;) {
    const page = await keys.store.listWrappedBelow(toVersion, batch, after);
    for (const record of page) {
      const context = { tenant: record.tenantId, scope: record.scope, keyId: record.id };
      try {
        const plaintext = await keys.provider.unwrap(
          { kekVersion: record.kekVersion, wrapped: Buffer.from(record.wrapped, 'base64url') },
          context,
        );
        const wrapped = await keys.provider.wrap(plaintext, context);
        // Conditional on the old version, so a concurrent rewrap (or shred) simply wins.
        if (
          await keys.store.rewrap(
            record.id,
            record.kekVersion,
            wrapped.wrapped.toString('base64url'),
            wrapped.kekVersion,
          )
        ) {
          result.rewrapped += 1;
        }
      } catch (error) {
        result.failed.push({
          keyId: record.id,
          reason: error instanceof Error ? error.message : String(error),
        });
      }
    }
    if (page.length < batch) break;
    after = page[page.length - 1]?.id;
  }
  await keys.auditLog.append(
    systemEntry('key.rewrap', '-', {
      provider: keys.provider.name,
      toVersion,
      rewrapped: result.rewrapped,
      failed: result.failed.map((f) => f.keyId),
    }),
  );
  return result;
}

/** How many data keys would become unreadable if versions below `version` were retired now. */
export const strandedBelow = (keys: DataKeys, version: number): Promise<number> =>
  keys.store.countWrappedBelow(version);

/** Raises the minimum decryption version: keys still wrapped below it refuse to unwrap from now on. */
export async function retireKeys(keys: DataKeys, belowVersion: number): Promise<{ stranded: number }> {
  const stranded = await strandedBelow(keys, belowVersion);
  // Audit first: a retirement the log cannot record does not happen.
  await keys.auditLog.append(
    systemEntry('key.retire', '-', { provider: keys.provider.name, belowVersion, stranded }),
  );
  await keys.provider.retireBelow(belowVersion);
  keys.forget();
  return { stranded };
}

/**
 * Crypto-shredding: destroys every data key of `scope`, so all its ciphertexts (rows, backups, replicas)
 * become unreadable for good, and records a deletion receipt. The receipt is appended first and names
 * the keys: if the append fails nothing is destroyed; if the delete then fails, the error surfaces and a
 * retry destroys the same keys (deleting is idempotent).
 */
export async function shredScope(
  keys: DataKeys,
  tenant: string,
  scope: string,
): Promise<{ keyIds: string[] }> {
  const keyIds = (await keys.store.listScope(tenant, scope)).map((r) => r.id);
  await keys.auditLog.append(systemEntry('deletion.receipt', tenant, { scope, keyIds }));
  keys.forgetIds(keyIds);
  await keys.store.destroy(tenant, keyIds);
  return { keyIds };
}
