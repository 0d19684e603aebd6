// A separate process appending to one audit log, for the multi-process test: `tsx audit-appender.ts COUNT NAME`
// with ENCLAVE_DATA_DIR / DATABASE_URL naming the shared database.
import { generateKeyPairSync } from 'node:crypto';
import { createStoreAuditLog } from '../../src/audit/store-audit-log.js';
import { keyIdOf } from '../../src/audit/signing-key.js';
import { openStore } from '../../src/store/open-store.js';

const count = Number(process.argv[2]);
const name = process.argv[3] ?? 'child';
const store = await openStore({
  databaseUrl: process.env.DATABASE_URL || undefined,
  dataDir: process.env.ENCLAVE_DATA_DIR ?? '.',
});
const { privateKey, publicKey } = generateKeyPairSync('ed25519');
const log = createStoreAuditLog({
  store,
  signingKey: { privateKey, publicKey, keyId: keyIdOf(publicKey) },
  maxBatch: 7,
});
const appends = Array.from({ length: count }, (_, i) =>
  log.append({
    type: 'model.call',
    time: i,
    tenant: name,
    principal: 'system',
    label: 'UNCLASSIFIED',
    detail: { n: i },
  }),
);
const receipts = await Promise.all(appends);
await log.close();
await store.close();
process.stdout.write(JSON.stringify(receipts.map((r) => r.index)) + '\n');
