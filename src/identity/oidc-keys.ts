import { readFileSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  errors,
  type JSONWebKeySet,
  type JWTVerifyGetKey,
} from 'jose';
import { EnclaveError } from '../errors/index.js';
import type { OidcProviderConfig } from './oidc-config.js';

/** The verification keys of one provider: a remote JWKS (jose caches and refetches) or a local file. */
export function providerKeys(p: OidcProviderConfig): JWTVerifyGetKey {
  if (p.jwksUrl !== undefined) {
    return createRemoteJWKSet(new URL(p.jwksUrl), {
      cooldownDuration: p.jwksCooldownSeconds * 1000,
      cacheMaxAge: p.jwksCacheSeconds * 1000,
      timeoutDuration: 5000,
    });
  }
  return fileKeys(p.jwksFile ?? '', p.jwksCooldownSeconds * 1000);
}

const STAT_INTERVAL_MS = 1000;

function parseKeySet(path: string, text: string): JWTVerifyGetKey {
  try {
    return createLocalJWKSet(JSON.parse(text) as JSONWebKeySet);
  } catch (cause) {
    throw new EnclaveError('invalid_request', `OIDC key file ${path} is not a JSON Web Key Set.`, { cause });
  }
}

/**
 * A JWKS file, read at start-up (so a bad path fails the start, not the first request), then re-read when its
 * mtime or size changes (checked at most once a second, so removing a key revokes it promptly) or when a token
 * names a key it lacks (rotation), at most once per cooldown so unknown kids cannot make us read in a loop.
 */
function fileKeys(path: string, cooldownMs: number): JWTVerifyGetKey {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new EnclaveError('invalid_request', `OIDC key file ${path} cannot be read.`, { cause });
  }
  let keys = parseKeySet(path, text);
  let seen = { mtimeMs: -1, size: text.length };
  let statAt = 0;
  let forcedAt = 0;

  const reload = async (force: boolean): Promise<boolean> => {
    const now = Date.now();
    if (force ? now - forcedAt < cooldownMs : now - statAt < STAT_INTERVAL_MS) return false;
    if (force) forcedAt = now;
    statAt = now;
    const s = await stat(path);
    if (!force && s.mtimeMs === seen.mtimeMs && s.size === seen.size) return false;
    const next = await readFile(path, 'utf8');
    seen = { mtimeMs: s.mtimeMs, size: s.size };
    if (next === text) return false;
    keys = parseKeySet(path, next);
    text = next;
    return true;
  };

  return async (header, token) => {
    await reload(false);
    try {
      return await keys(header, token);
    } catch (error) {
      if (error instanceof errors.JWKSNoMatchingKey && (await reload(true))) return keys(header, token);
      throw error;
    }
  };
}
