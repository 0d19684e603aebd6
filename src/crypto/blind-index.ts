import { createHmac, hkdfSync } from 'node:crypto';

/**
 * Keyed blind-index tokens for searching encrypted text on PostgreSQL: the server stores and matches
 * HMAC tokens of normalized terms instead of the terms. Equal terms give equal tokens under one key,
 * so the server learns term frequencies and co-occurrence, not the terms (see docs/encryption.md).
 */

/** Derives the blind-index key from a tenant's stable data key (`DataKeys.stableKey(tenant, 'index')`). */
export function blindIndexKey(dataKey: Buffer, purpose = 'search'): Buffer {
  return Buffer.from(hkdfSync('sha256', dataKey, Buffer.alloc(0), `enclave.blind-index.v1.${purpose}`, 32));
}

/** NFKC, lower case, split on anything that is not a letter or digit. */
export function normalizeTerms(text: string): string[] {
  return text
    .normalize('NFKC')
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter((t) => t.length > 0);
}

/** One token: base64url of the first 16 bytes of HMAC-SHA-256(key, term). */
export const blindToken = (key: Buffer, term: string): string =>
  createHmac('sha256', key).update(term, 'utf8').digest().subarray(0, 16).toString('base64url');

/** Distinct tokens of the normalized terms of `text`, in first-seen order. */
export function blindTokens(key: Buffer, text: string): string[] {
  return [...new Set(normalizeTerms(text))].map((term) => blindToken(key, term));
}
