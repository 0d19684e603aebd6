import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { MemoryAudit } from '../../test/support/crypto-fixture.js';
import { startKmsMock, type KmsMock } from '../../test/support/kms-mock.js';
import { openStore } from '../store/open-store.js';
import type { Store } from '../store/store.js';
import { AwsKmsKeyProvider, defaultKmsRingPath } from './aws-kms-key-provider.js';
import { createContentCipher } from './content-cipher.js';
import { DataKeys } from './data-keys.js';
import { retireKeys, rewrapKeys, rotateKeys } from './key-lifecycle.js';
import { keyProviderFor } from './key-provider-from-env.js';
import { sqliteKeyFor } from './sqlite-key.js';

let kms: KmsMock;
let dataDir: string;
let store: Store;
const kmsKeys = ['arn:aws:kms:eu-west-1:111122223333:key/one', 'arn:aws:kms:eu-west-1:111122223333:key/two'];

const provider = (keyId: string): AwsKmsKeyProvider =>
  new AwsKmsKeyProvider({
    keyId,
    ringPath: defaultKmsRingPath(dataDir),
    client: {
      region: 'eu-west-1',
      endpoint: kms.endpoint,
      credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'fake-secret-for-the-local-mock' },
      maxAttempts: 1,
    },
  });

beforeAll(async () => {
  kms = await startKmsMock(kmsKeys);
  dataDir = mkdtempSync(join(tmpdir(), 'enclave-kms-'));
  store = await openStore({ dataDir });
});
afterAll(async () => {
  await store.close();
  await kms.close();
  rmSync(dataDir, { recursive: true, force: true });
});

const ctx = { tenant: 't', objectId: 'o1', kind: 'message', label: 'L', scope: 'user:u' };

describe('AwsKmsKeyProvider (against a local KMS JSON-protocol mock)', () => {
  it('generates, wraps and unwraps data keys through signed KMS calls, bound to their context', async () => {
    const p = provider(kmsKeys[0] as string);
    const made = await p.generateDataKey({ tenant: 't', scope: 's', keyId: 'dk_a' });
    expect(made.plaintext).toHaveLength(32);
    expect(made.kekVersion).toBe(1);
    expect(await p.unwrap(made, { tenant: 't', scope: 's', keyId: 'dk_a' })).toEqual(made.plaintext);
    await expect(p.unwrap(made, { tenant: 't', scope: 's', keyId: 'dk_b' })).rejects.toMatchObject({
      code: 'decrypt_failed',
      message: expect.stringMatching(/AWS KMS refused/),
    });
    const rewrapped = await p.wrap(made.plaintext, { tenant: 't', scope: 's', keyId: 'dk_a' });
    expect(await p.unwrap(rewrapped, { tenant: 't', scope: 's', keyId: 'dk_a' })).toEqual(made.plaintext);
    expect(kms.calls.map((c) => c.op)).toEqual([
      'GenerateDataKey',
      'Decrypt',
      'Decrypt',
      'Encrypt',
      'Decrypt',
    ]);
    expect(kms.calls.every((c) => c.signed)).toBe(true);
    // The ring file maps versions to KMS keys and holds no secret.
    expect(readFileSync(defaultKmsRingPath(dataDir), 'utf8')).toContain(kmsKeys[0]);
  });

  it('serves content encryption, rotation to a new KMS key, rewrap and retirement', async () => {
    const audit = new MemoryAudit();
    const keys = new DataKeys({ repo: store.dataKeys, provider: provider(kmsKeys[0] as string), audit });
    const sealed = await createContentCipher(keys).seal(ctx, 'kept in KMS envelope');
    const keys2 = new DataKeys({ repo: store.dataKeys, provider: provider(kmsKeys[1] as string), audit });
    expect(await rotateKeys(keys2)).toBe(2);
    expect((await rewrapKeys(keys2)).failed).toEqual([]);
    await retireKeys(keys2, 2);
    kms.calls.length = 0;
    const cold = createContentCipher(
      new DataKeys({ repo: store.dataKeys, provider: provider(kmsKeys[1] as string), audit }),
    );
    expect(await cold.open(ctx, sealed)).toBe('kept in KMS envelope');
    expect(kms.calls).toEqual([{ op: 'Decrypt', signed: true, keyId: kmsKeys[1] }]);
  });

  it('names KMS faults as upstream errors without echoing request data', async () => {
    const broken = new AwsKmsKeyProvider({
      keyId: 'arn:aws:kms:eu-west-1:111122223333:key/unknown',
      ringPath: join(dataDir, 'keys', 'other.json'),
      client: {
        region: 'eu-west-1',
        endpoint: kms.endpoint,
        credentials: { accessKeyId: 'A', secretAccessKey: 'B' },
        maxAttempts: 1,
      },
    });
    await expect(broken.generateDataKey({ tenant: 't', scope: 's', keyId: 'dk_x' })).rejects.toMatchObject({
      code: 'upstream_error',
      message: 'AWS KMS request failed (NotFoundException).',
    });
  });

  it('is selected by the environment and wraps the SQLite key too', async () => {
    const env = {
      ENCLAVE_KEY_PROVIDER: 'aws-kms',
      ENCLAVE_KMS_KEY_ID: kmsKeys[1],
      ENCLAVE_KMS_ENDPOINT: kms.endpoint,
      AWS_REGION: 'eu-west-1',
      AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
      AWS_SECRET_ACCESS_KEY: 'fake',
    };
    const dir = mkdtempSync(join(tmpdir(), 'enclave-kms-env-'));
    // The SDK's standard credential chain reads the process environment itself.
    vi.stubEnv('AWS_ACCESS_KEY_ID', env.AWS_ACCESS_KEY_ID);
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', env.AWS_SECRET_ACCESS_KEY);
    try {
      const p = keyProviderFor(dir, env);
      expect(p.name).toBe('aws-kms');
      const key = await sqliteKeyFor(dir, { env });
      expect(key).toHaveLength(32);
      expect(await sqliteKeyFor(dir, { env })).toEqual(key);
      expect(() => keyProviderFor(dir, { ENCLAVE_KEY_PROVIDER: 'aws-kms' })).toThrow(/ENCLAVE_KMS_KEY_ID/);
    } finally {
      vi.unstubAllEnvs();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
