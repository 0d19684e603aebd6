import {
  DecryptCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  KMSClient,
  type KMSClientConfig,
} from '@aws-sdk/client-kms';
import { join } from 'node:path';
import { EnclaveError } from '../errors/index.js';
import {
  retiredError,
  unwrapError,
  type KeyProvider,
  type WrapContext,
  type WrappedKey,
} from './key-provider.js';
import { KeyringFile, versionOf, withMinimum, withNewVersion, type Keyring } from './keyring-file.js';

export interface AwsKmsOptions {
  /** The KMS key (id, ARN or alias) new versions use; a rotation picks up a changed value. */
  keyId: string;
  /** Where the version → KMS key map lives (default `<dataDir>/keys/kms.json`). */
  ringPath: string;
  /** Region, endpoint, credentials; absent fields come from the standard AWS chain. */
  client?: KMSClientConfig;
}

export const defaultKmsRingPath = (dataDir: string): string => join(dataDir, 'keys', 'kms.json');

// KMS binds the encryption context into its own AAD, exactly like the local provider's wrap AAD.
const encryptionContext = (context: WrapContext, kekVersion: number): Record<string, string> => ({
  purpose: 'enclave.dek-wrap',
  tenant: context.tenant,
  scope: context.scope,
  keyId: context.keyId,
  kekVersion: String(kekVersion),
});

/**
 * KEKs held by AWS KMS: key material never leaves KMS. Enclave versions map to KMS keys in a small
 * local file (no secrets in it), so `keys rotate` can move to a new KMS key and `keys retire` can
 * refuse old ones. Erasing a KMS key is KMS's own ScheduleKeyDeletion, left to the operator.
 */
export class AwsKmsKeyProvider implements KeyProvider {
  readonly name = 'aws-kms';
  private readonly file: KeyringFile;
  private readonly kms: KMSClient;

  constructor(private readonly options: AwsKmsOptions) {
    this.file = new KeyringFile(options.ringPath);
    this.kms = new KMSClient(options.client ?? {});
  }

  private ring(): Keyring {
    const ring = this.file.readOrCreate(() => ({
      format: 1,
      provider: 'aws-kms',
      current: 1,
      minDecrypt: 1,
      versions: [{ version: 1, createdAt: Date.now(), kmsKeyId: this.options.keyId }],
    }));
    if (ring.provider !== 'aws-kms') {
      throw new EnclaveError(
        'invalid_request',
        `Key file ${this.file.path} belongs to the '${ring.provider}' provider.`,
      );
    }
    return ring;
  }

  private kmsKeyOf(ring: Keyring, version: number): string {
    const id = versionOf(ring, version)?.kmsKeyId;
    if (!id)
      throw new EnclaveError(
        'unavailable',
        `Key file ${this.file.path} has no KMS key for version ${version}.`,
      );
    return id;
  }

  async currentVersion(): Promise<number> {
    return this.ring().current;
  }

  async minDecryptVersion(): Promise<number> {
    return this.ring().minDecrypt;
  }

  async generateDataKey(context: WrapContext): Promise<WrappedKey & { plaintext: Buffer }> {
    const ring = this.ring();
    const out = await this.call(() =>
      this.kms.send(
        new GenerateDataKeyCommand({
          KeyId: this.kmsKeyOf(ring, ring.current),
          KeySpec: 'AES_256',
          EncryptionContext: encryptionContext(context, ring.current),
        }),
      ),
    );
    if (!out.Plaintext || !out.CiphertextBlob)
      throw new EnclaveError('upstream_error', 'AWS KMS returned no data key.');
    return {
      plaintext: Buffer.from(out.Plaintext),
      kekVersion: ring.current,
      wrapped: Buffer.from(out.CiphertextBlob),
    };
  }

  async wrap(plaintext: Buffer, context: WrapContext): Promise<WrappedKey> {
    const ring = this.ring();
    const out = await this.call(() =>
      this.kms.send(
        new EncryptCommand({
          KeyId: this.kmsKeyOf(ring, ring.current),
          Plaintext: plaintext,
          EncryptionContext: encryptionContext(context, ring.current),
        }),
      ),
    );
    if (!out.CiphertextBlob) throw new EnclaveError('upstream_error', 'AWS KMS returned no ciphertext.');
    return { kekVersion: ring.current, wrapped: Buffer.from(out.CiphertextBlob) };
  }

  async unwrap(key: WrappedKey, context: WrapContext): Promise<Buffer> {
    const ring = this.ring();
    if (key.kekVersion < ring.minDecrypt) throw retiredError(key.kekVersion, ring.minDecrypt);
    let out;
    try {
      out = await this.kms.send(
        new DecryptCommand({
          // Pinning the key id stops KMS from decrypting under any other key the ciphertext names.
          KeyId: this.kmsKeyOf(ring, key.kekVersion),
          CiphertextBlob: key.wrapped,
          EncryptionContext: encryptionContext(context, key.kekVersion),
        }),
      );
    } catch (error) {
      const name = (error as { name?: string }).name;
      if (name === 'InvalidCiphertextException' || name === 'IncorrectKeyException') {
        throw unwrapError(context, 'AWS KMS refused the wrapped key (altered, or bound to another key)');
      }
      throw kmsError(error);
    }
    if (!out.Plaintext) throw unwrapError(context, 'AWS KMS returned no plaintext');
    return Buffer.from(out.Plaintext);
  }

  async rotate(): Promise<number> {
    const next = withNewVersion(this.ring(), { createdAt: Date.now(), kmsKeyId: this.options.keyId });
    this.file.write(next);
    return next.current;
  }

  async retireBelow(version: number): Promise<void> {
    this.file.write(withMinimum(this.ring(), version, false));
  }

  private async call<T>(send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (error) {
      throw kmsError(error);
    }
  }
}

// KMS faults are upstream faults: name the KMS error type, never echo request data.
const kmsError = (error: unknown): EnclaveError =>
  new EnclaveError(
    'upstream_error',
    `AWS KMS request failed (${(error as { name?: string }).name ?? 'unknown error'}).`,
    {
      cause: error,
    },
  );
