import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../store/open-store.js';
import type { SafetyVerdictRecord } from '../store/repos/safety-repo.js';
import type { Store } from '../store/store.js';
import type { AuditEntry } from './audit-entry.js';
import { keyIdOf, type SigningKey } from './signing-key.js';

/** Test helpers shared by the audit unit tests (a SQLite store in a temp dir, keys, entries). */
export const newSigningKey = (): SigningKey => {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return { privateKey, publicKey, keyId: keyIdOf(publicKey) };
};

export const sampleEntry = (n: number): AuditEntry => ({
  type: 'memory.write',
  time: 1_700_000_000_000 + n,
  tenant: 'acme',
  principal: `key_${n}`,
  onBehalfOf: 'user-1',
  objectId: `mem_${n}`,
  label: 'CONFIDENTIAL',
  detail: { bytes: n * 10 },
});

export async function tempStore(): Promise<{ store: Store; dir: string; cleanup: () => Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'enclave-audit-'));
  const store = await openStore({ dataDir: dir });
  return {
    store,
    dir,
    cleanup: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A safety verdict row: the kind of row a turn commits together with its audit entries. */
export const sampleVerdictRow = (id: string, tenantId = 'acme'): SafetyVerdictRecord => ({
  id,
  tenantId,
  surface: 'input',
  subject: null,
  action: 'allow',
  flagged: false,
  score: 0,
  categories: [],
  policyVersion: 'p1',
  modelVersion: 'm1',
  textSha256: '0'.repeat(64),
  createdAt: 1_700_000_000_000,
});
