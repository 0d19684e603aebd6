import { EnclaveError } from '../errors/index.js';
import { IV_BYTES, TAG_BYTES } from './aes-gcm.js';

export const SEALED_VERSION = 1;

export interface SealedParts {
  version: number;
  keyId: string;
  keyVersion: number;
  /** `iv ‖ ciphertext ‖ tag`. */
  box: Buffer;
}

// `ev1.<keyId>.<keyVersion>.<base64url(iv ‖ ciphertext ‖ tag)>`: readable enough to see which key a value
// needs (for rewrap/shred forensics) and safe in a text column, JSON and URLs.
const pattern = /^ev(\d{1,3})\.([A-Za-z0-9_-]{1,64})\.(\d{1,9})\.([A-Za-z0-9_-]+)$/;

export function formatSealed(parts: SealedParts): string {
  return `ev${parts.version}.${parts.keyId}.${parts.keyVersion}.${parts.box.toString('base64url')}`;
}

export const isSealed = (value: string): boolean => pattern.test(value);

/** Parses a sealed value; anything malformed or of an unknown version is refused, never guessed at. */
export function parseSealed(value: string): SealedParts {
  const match = pattern.exec(value);
  if (!match)
    throw new EnclaveError(
      'decrypt_failed',
      'Stored content is not in the sealed format (ev1.…); it cannot be decrypted.',
    );
  const [, version, keyId, keyVersion, body] = match as unknown as [string, string, string, string, string];
  if (Number(version) !== SEALED_VERSION) {
    throw new EnclaveError(
      'decrypt_failed',
      `Stored content uses sealed format version ${version}, which this Enclave does not read.`,
    );
  }
  const box = Buffer.from(body, 'base64url');
  if (box.length < IV_BYTES + TAG_BYTES || box.toString('base64url') !== body) {
    throw new EnclaveError(
      'decrypt_failed',
      'Stored content is truncated or not valid base64url; it cannot be decrypted.',
    );
  }
  return { version: SEALED_VERSION, keyId, keyVersion: Number(keyVersion), box };
}
