import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Creates the data dir (0700) if missing. */
export function ensureDataDir(dataDir: string): void {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
}

/**
 * Reads a secret file, creating it with fresh random bytes (mode 0600) on first use.
 * Used for the server secret that keys API-key hashes; losing it invalidates every key.
 */
export function readOrCreateSecret(path: string, bytes = 32): Buffer {
  if (!existsSync(path)) {
    writeFileSync(path, randomBytes(bytes).toString('hex') + '\n', { mode: 0o600, flag: 'wx' });
  }
  chmodSync(path, 0o600);
  const secret = Buffer.from(readFileSync(path, 'utf8').trim(), 'hex');
  if (secret.length < 16)
    throw new Error(`Secret file ${path} is shorter than 128 bits; remove it to regenerate.`);
  return secret;
}

export const serverSecretPath = (dataDir: string): string => join(dataDir, 'server-secret');
