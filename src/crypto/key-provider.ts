import { EnclaveError } from '../errors/index.js';

/** What a wrapped data key is bound to; a provider must refuse to unwrap it under any other context. */
export interface WrapContext {
  tenant: string;
  scope: string;
  keyId: string;
}

export interface WrappedKey {
  /** The key-encryption-key version that wrapped it. */
  kekVersion: number;
  wrapped: Buffer;
}

/**
 * A versioned key-encryption key (KEK) that wraps data keys (DEKs). Plug-ins: a local key file
 * (`LocalKeyProvider`) and AWS KMS (`AwsKmsKeyProvider`). Versions only grow; data keys record the
 * version that wraps them, so a rotation never needs the old content decrypted.
 */
export interface KeyProvider {
  /** Stable name recorded with every wrapped key (`local`, `aws-kms`). */
  readonly name: string;
  /** The version new data keys are wrapped under. */
  currentVersion(): Promise<number>;
  /** Versions below this are retired: nothing wrapped under them is unwrapped any more. */
  minDecryptVersion(): Promise<number>;
  /** A fresh 32-byte data key and its wrapped form under the current version. */
  generateDataKey(context: WrapContext): Promise<WrappedKey & { plaintext: Buffer }>;
  /** Wraps an existing data key under the current version (rewrap). */
  wrap(plaintext: Buffer, context: WrapContext): Promise<WrappedKey>;
  /** Unwraps; throws `decrypt_failed` for a retired version, a wrong context or a damaged key. */
  unwrap(key: WrappedKey, context: WrapContext): Promise<Buffer>;
  /** Adds a new KEK version and makes it current; returns it. */
  rotate(): Promise<number>;
  /** Raises the minimum decryption version (never lowers it); a local provider also erases the old keys. */
  retireBelow(version: number): Promise<void>;
}

export const retiredError = (version: number, min: number): EnclaveError =>
  new EnclaveError(
    'decrypt_failed',
    `This data is protected by key-encryption key version ${version}, which was retired (the minimum decryption ` +
      `version is ${min}). Run \`enclave keys rewrap\` before retiring a version; data left under it stays unreadable.`,
  );

export const unwrapError = (context: WrapContext, why: string): EnclaveError =>
  new EnclaveError(
    'decrypt_failed',
    `Data key ${context.keyId} (tenant '${context.tenant}', scope '${context.scope}') could not be unwrapped: ${why}.`,
  );
