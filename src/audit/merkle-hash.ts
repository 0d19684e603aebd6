import { hash } from 'node:crypto';

/**
 * RFC 6962 hashing over SHA-256 with domain separation: a leaf is hashed as SHA-256(0x00 || data) and an
 * interior node as SHA-256(0x01 || left || right), so no leaf can be passed off as a node (second preimage).
 */
export const HASH_BYTES = 32;

/**
 * SHA-256 as a Buffer. On Node 20, `hash(…, 'buffer')` costs ~1.3 µs for a 65-byte node against ~0.45 µs for a
 * 'binary' (latin1) string turned back into a Buffer; appends and verification hash about two nodes per entry.
 */
const sha256 = (data: string | Uint8Array): Buffer => Buffer.from(hash('sha256', data, 'binary'), 'binary');

/** MTH({}) = SHA-256 of the empty string. */
export const emptyRoot = (): Buffer => sha256('');

/** Leaf hash of `data`; a string is hashed as its UTF-8 bytes (U+0000 encodes as the single 0x00 byte). */
export function leafHash(data: string | Uint8Array): Buffer {
  if (typeof data === 'string') return sha256('\u0000' + data);
  const buffer = Buffer.allocUnsafe(data.length + 1);
  buffer[0] = 0;
  buffer.set(data, 1);
  return sha256(buffer);
}

/** Hex leaf hash of `data` (UTF-8): what is stored per entry, and compared as a string when verifying. */
export const leafHashHex = (data: string): string => hash('sha256', '\u0000' + data, 'hex');

// Hashing is synchronous, so one scratch buffer serves every node hash (verification hashes ~n nodes).
const scratch = Buffer.allocUnsafe(1 + 2 * HASH_BYTES);
scratch[0] = 1;

export function nodeHash(left: Uint8Array, right: Uint8Array): Buffer {
  if (left.length === HASH_BYTES && right.length === HASH_BYTES) {
    scratch.set(left, 1);
    scratch.set(right, 1 + HASH_BYTES);
    return sha256(scratch);
  }
  const buffer = Buffer.allocUnsafe(1 + left.length + right.length);
  buffer[0] = 1;
  buffer.set(left, 1);
  buffer.set(right, 1 + left.length);
  return sha256(buffer);
}

/** The largest power of two strictly below `n` (n >= 2): RFC 6962's split point `k`. */
export function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

export const toHex = (value: Uint8Array): string =>
  (Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.length)).toString(
    'hex',
  );

/** Parses a hex hash; anything but 64 hex digits is refused, so a malformed hash never compares equal. */
export function fromHex(value: string): Buffer | undefined {
  return /^[0-9a-f]{64}$/.test(value) ? Buffer.from(value, 'hex') : undefined;
}
