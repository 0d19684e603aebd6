import { resolve } from 'node:path';
import { z } from 'zod';
import { EnclaveError } from '../errors/index.js';
import { AwsKmsKeyProvider, defaultKmsRingPath } from './aws-kms-key-provider.js';
import type { KeyProvider } from './key-provider.js';
import { defaultKekPath, LocalKeyProvider } from './local-key-provider.js';

const envSchema = z.object({
  ENCLAVE_KEY_PROVIDER: z.enum(['local', 'aws-kms']).default('local'),
  ENCLAVE_KEK_FILE: z.string().min(1).optional(),
  ENCLAVE_KMS_KEY_ID: z.string().min(1).optional(),
  ENCLAVE_KMS_ENDPOINT: z.string().url().optional(),
  AWS_REGION: z.string().min(1).optional(),
});

/**
 * The configured key provider: `local` (a key file, default `<dataDir>/keys/kek.json`, or
 * ENCLAVE_KEK_FILE) or `aws-kms` (ENCLAVE_KMS_KEY_ID, AWS_REGION and the standard credential chain;
 * ENCLAVE_KMS_ENDPOINT for a VPC endpoint).
 */
export function keyProviderFor(dataDir: string, env: NodeJS.ProcessEnv = process.env): KeyProvider {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new EnclaveError(
      'invalid_request',
      `Invalid environment variable ${String(issue?.path[0])}: ${issue?.message}.`,
    );
  }
  const e = parsed.data;
  if (e.ENCLAVE_KEY_PROVIDER === 'local') {
    return new LocalKeyProvider(e.ENCLAVE_KEK_FILE ? resolve(e.ENCLAVE_KEK_FILE) : defaultKekPath(dataDir));
  }
  if (!e.ENCLAVE_KMS_KEY_ID) {
    throw new EnclaveError(
      'invalid_request',
      'ENCLAVE_KEY_PROVIDER=aws-kms needs ENCLAVE_KMS_KEY_ID (a KMS key id, ARN or alias).',
    );
  }
  return new AwsKmsKeyProvider({
    keyId: e.ENCLAVE_KMS_KEY_ID,
    ringPath: defaultKmsRingPath(dataDir),
    client: {
      ...(e.AWS_REGION ? { region: e.AWS_REGION } : {}),
      ...(e.ENCLAVE_KMS_ENDPOINT ? { endpoint: e.ENCLAVE_KMS_ENDPOINT } : {}),
    },
  });
}
