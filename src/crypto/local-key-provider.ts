import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { EnclaveError } from '../errors/index.js';
import { gcmOpen, gcmSeal, KEY_BYTES } from './aes-gcm.js';
import { canonicalJson } from './canonical-aad.js';
import {
  retiredError,
  unwrapError,
  type KeyProvider,
  type WrapContext,
  type WrappedKey,
} from './key-provider.js';
import { KeyringFile, versionOf, withMinimum, withNewVersion, type Keyring } from './keyring-file.js';

export const defaultKekPath = (dataDir: string): string => join(dataDir, 'keys', 'kek.json');

const newRing = (): Keyring => ({
  format: 1,
  provider: 'local',
  current: 1,
  minDecrypt: 1,
  versions: [{ version: 1, createdAt: Date.now(), key: randomBytes(KEY_BYTES).toString('base64url') }],
});

// The wrapped key is bound to its tenant, scope, id and KEK version, so a wrapped key copied to another
// row (or relabelled with another version) does not unwrap.
const wrapAad = (context: WrapContext, kekVersion: number): Buffer =>
  canonicalJson({
    purpose: 'enclave.dek-wrap',
    tenant: context.tenant,
    scope: context.scope,
    keyId: context.keyId,
    kekVersion,
  });

/**
 * KEKs in a local key file (default `<dataDir>/keys/kek.json`, mode 0600), created on first use. Put
 * the file on other storage than the database (ENCLAVE_KEK_FILE) so a copy of one is useless alone.
 */
export class LocalKeyProvider implements KeyProvider {
  readonly name = 'local';
  private readonly file: KeyringFile;

  constructor(path: string) {
    this.file = new KeyringFile(path);
  }

  private ring(): Keyring {
    const ring = this.file.readOrCreate(newRing);
    if (ring.provider !== 'local') {
      throw new EnclaveError(
        'invalid_request',
        `Key file ${this.file.path} belongs to the '${ring.provider}' provider.`,
      );
    }
    return ring;
  }

  private kek(ring: Keyring, version: number): Buffer | undefined {
    const key = versionOf(ring, version)?.key;
    return key === undefined ? undefined : Buffer.from(key, 'base64url');
  }

  async currentVersion(): Promise<number> {
    return this.ring().current;
  }

  async minDecryptVersion(): Promise<number> {
    return this.ring().minDecrypt;
  }

  async generateDataKey(context: WrapContext): Promise<WrappedKey & { plaintext: Buffer }> {
    const plaintext = randomBytes(KEY_BYTES);
    return { plaintext, ...(await this.wrap(plaintext, context)) };
  }

  async wrap(plaintext: Buffer, context: WrapContext): Promise<WrappedKey> {
    const ring = this.ring();
    const kek = this.kek(ring, ring.current);
    if (!kek)
      throw new EnclaveError(
        'unavailable',
        `Key file ${this.file.path} lacks its current version ${ring.current}.`,
      );
    return { kekVersion: ring.current, wrapped: gcmSeal(kek, plaintext, wrapAad(context, ring.current)) };
  }

  async unwrap(key: WrappedKey, context: WrapContext): Promise<Buffer> {
    const ring = this.ring();
    if (key.kekVersion < ring.minDecrypt) throw retiredError(key.kekVersion, ring.minDecrypt);
    const kek = this.kek(ring, key.kekVersion);
    if (!kek)
      throw unwrapError(context, `key-encryption key version ${key.kekVersion} is not in ${this.file.path}`);
    const plaintext = gcmOpen(kek, key.wrapped, wrapAad(context, key.kekVersion));
    if (!plaintext) throw unwrapError(context, 'the wrapped key was altered or belongs to another key');
    return plaintext;
  }

  async rotate(): Promise<number> {
    const next = withNewVersion(this.ring(), {
      createdAt: Date.now(),
      key: randomBytes(KEY_BYTES).toString('base64url'),
    });
    this.file.write(next);
    return next.current;
  }

  async retireBelow(version: number): Promise<void> {
    // Retired KEKs are erased from the file: retirement is final, and a stolen old backup of the
    // database then gains nothing from the current key file.
    this.file.write(withMinimum(this.ring(), version, true));
  }
}
