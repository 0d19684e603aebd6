import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { EnclaveError } from '../errors/index.js';
import { canRead, parseBanner, parseCanonicalLabel, type Label } from '../labels/index.js';
import type { ApiKeyRecord } from '../store/repos/api-key-repo.js';
import type { Store } from '../store/store.js';
import type { Principal, Role } from './principal.js';

/** Keys are `enc_` + 192 random bits (base64url); the prefix makes leaked keys easy to scan for. */
const KEY_PREFIX = 'enc_';
const KEY_PATTERN = /^enc_[A-Za-z0-9_-]{32}$/;

export const hashApiKey = (secret: Buffer, key: string): string =>
  createHmac('sha256', secret).update(key).digest('hex');

export interface NewApiKey {
  tenantId: string;
  name: string;
  role: Role;
  clearance: string;
  authorizations?: readonly string[];
  /** Canonical label of requests sent without `Enclave-Classification` (default: the clearance). */
  defaultLabel?: string | null;
  expiresAt?: number | null;
}

/** Creates a key and returns it in the clear exactly once; only its HMAC is stored. */
export async function createApiKey(
  store: Store,
  secret: Buffer,
  input: NewApiKey,
  now = Date.now(),
): Promise<{ key: string; record: ApiKeyRecord }> {
  if (input.defaultLabel) requireWithinClearance(input);
  const key = KEY_PREFIX + randomBytes(24).toString('base64url');
  const record: ApiKeyRecord = {
    id: 'key_' + randomBytes(8).toString('hex'),
    tenantId: input.tenantId,
    name: input.name,
    role: input.role,
    clearance: input.clearance,
    authorizations: [...(input.authorizations ?? [])],
    defaultLabel: input.defaultLabel ?? null,
    keyHash: hashApiKey(secret, key),
    createdAt: now,
    expiresAt: input.expiresAt ?? null,
    revokedAt: null,
  };
  await store.transaction(async (tx) => {
    await tx.tenants.ensure(input.tenantId, now);
    await tx.apiKeys.insert(record);
  });
  return { key, record };
}

/** Why a presented key was refused; the client only ever sees one generic message. */
export type KeyDenial = 'malformed' | 'unknown' | 'revoked' | 'expired';

export async function verifyApiKey(
  store: Store,
  secret: Buffer,
  key: string,
  now = Date.now(),
): Promise<{ principal: Principal } | { denied: KeyDenial; tenant?: string }> {
  if (!KEY_PATTERN.test(key)) return { denied: 'malformed' };
  const hash = hashApiKey(secret, key);
  const record = await store.apiKeys.byHash(hash);
  // The lookup is by a keyed hash, so timing reveals nothing about the key; compare anyway in constant time.
  if (!record || !timingSafeEqual(Buffer.from(record.keyHash, 'hex'), Buffer.from(hash, 'hex'))) {
    return { denied: 'unknown' };
  }
  if (record.revokedAt !== null) return { denied: 'revoked', tenant: record.tenantId };
  if (record.expiresAt !== null && record.expiresAt <= now)
    return { denied: 'expired', tenant: record.tenantId };
  return {
    principal: {
      tenantId: record.tenantId,
      subject: record.id,
      role: record.role as Role,
      clearance: record.clearance,
      authorizations: record.authorizations,
      ...(record.defaultLabel ? { defaultLabel: record.defaultLabel } : {}),
      via: 'api_key',
    },
  };
}

export const unauthenticated = (): EnclaveError =>
  new EnclaveError(
    'unauthenticated',
    'Missing or invalid credentials: send "Authorization: Bearer <key>" with a live Enclave API key or OIDC token.',
  );

/** A key's default label must be one its own clearance reads: a default can only lower, never raise. */
function requireWithinClearance(input: NewApiKey): void {
  const clearance = { label: storedLabel(input.clearance), authorizations: input.authorizations ?? [] };
  if (!canRead(clearance, storedLabel(input.defaultLabel ?? ''))) {
    throw new EnclaveError(
      'invalid_label',
      "The default label must be within the key's clearance (a level, compartments and need-to-know it reads).",
      { param: 'default_label' },
    );
  }
}

/** Labels are stored canonically; a banner written by hand parses the same way. */
function storedLabel(text: string): Label {
  try {
    return parseCanonicalLabel(text);
  } catch {
    return parseBanner(text);
  }
}
