import { createPrivateKey, createPublicKey, generateKeyPairSync, hash, type KeyObject } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { EnclaveError } from '../errors/index.js';

export interface SigningKey {
  privateKey: KeyObject;
  publicKey: KeyObject;
  keyId: string;
}

/**
 * Where the checkpoint signing key lives. It is a file of its own, apart from the database and its
 * credentials, so someone who can rewrite the database cannot also re-sign its history.
 */
export const defaultSigningKeyPath = (dataDir: string): string => join(dataDir, 'keys', 'audit-signing.pem');

/** Key id: the first 16 hex digits of SHA-256 over the SubjectPublicKeyInfo DER. */
export const keyIdOf = (publicKey: KeyObject): string =>
  hash('sha256', publicKey.export({ type: 'spki', format: 'der' }), 'hex').slice(0, 16);

/** Reads the Ed25519 signing key, creating it (PKCS#8 PEM, mode 0600) on first use. */
export function loadOrCreateSigningKey(path: string): SigningKey {
  if (!existsSync(path)) {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    const { privateKey } = generateKeyPairSync('ed25519');
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' });
    try {
      writeFileSync(path, pem, { mode: 0o600, flag: 'wx' });
    } catch (error) {
      // Another process created it first: use theirs, so both sign with one key.
      if ((error as { code?: string }).code !== 'EEXIST') throw error;
    }
  }
  chmodSync(path, 0o600);
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(readFileSync(path));
  } catch (cause) {
    throw new EnclaveError('invalid_request', `The audit signing key ${path} is not a PEM private key.`, {
      cause,
    });
  }
  if (privateKey.asymmetricKeyType !== 'ed25519') {
    throw new EnclaveError('invalid_request', `The audit signing key ${path} is not an Ed25519 key.`);
  }
  const publicKey = createPublicKey(privateKey);
  return { privateKey, publicKey, keyId: keyIdOf(publicKey) };
}

/** Reads a public key for offline verification (a public PEM, or the private PEM it derives from). */
export function loadPublicKey(path: string): KeyObject {
  let key: KeyObject;
  try {
    const pem = readFileSync(path);
    key = pem.includes('PRIVATE KEY') ? createPublicKey(createPrivateKey(pem)) : createPublicKey(pem);
  } catch (cause) {
    throw new EnclaveError('invalid_request', `Cannot read a public key from ${path} (expected PEM).`, {
      cause,
    });
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new EnclaveError('invalid_request', `The public key in ${path} is not an Ed25519 key.`);
  }
  return key;
}

export const publicKeyPem = (key: KeyObject): string =>
  key.export({ type: 'spki', format: 'pem' }).toString();
