import { decodeJwt, errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { EnclaveError } from '../errors/index.js';
import { canonicalLabel, canRead, parseCanonicalLabel } from '../labels/index.js';
import { oidcConfigSchema, type OidcConfigInput, type OidcProviderConfig } from './oidc-config.js';
import { providerKeys } from './oidc-keys.js';
import type { Role } from './principal.js';

export { oidcConfigSchema, type OidcConfig, type OidcConfigInput } from './oidc-config.js';

/** Who a verified token holder is, entirely from the admin's claim mapping. */
export interface OidcIdentity {
  tenantId: string;
  subject: string;
  role: Role;
  /** Canonical clearance label. */
  clearance: string;
  authorizations: string[];
  /** Canonical label for requests that send none (absent: the clearance). */
  defaultLabel?: string;
}

export interface OidcVerifier {
  /** Verifies a bearer token or throws EnclaveError('unauthenticated'); `cause.message` says why (log it). */
  verify(token: string): Promise<OidcIdentity>;
}

const GENERIC =
  'Missing or invalid credentials: send "Authorization: Bearer <key>" with a live Enclave API key or OIDC token.';

/** Every refusal looks the same to the client; the reason travels in `cause` for the log and the audit trail. */
const denied = (reason: string, cause?: unknown): EnclaveError =>
  new EnclaveError('unauthenticated', GENERIC, { cause: new Error(`oidc: ${reason}`, { cause }) });

function reasonOf(error: unknown): string {
  if (error instanceof errors.JWTExpired) return 'expired';
  if (error instanceof errors.JWTClaimValidationFailed) {
    const byClaim: Record<string, string> = {
      nbf: 'not yet valid',
      iss: 'wrong issuer',
      aud: 'wrong audience',
      iat: 'too old',
    };
    return byClaim[error.claim] ?? `claim ${error.claim} ${error.reason}`;
  }
  if (error instanceof errors.JOSEAlgNotAllowed) return 'algorithm not allowed';
  if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys)
    return 'unknown key';
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'bad signature';
  if (error instanceof errors.JWKSTimeout) return 'key set unavailable';
  if (error instanceof errors.JOSEError) return `rejected (${error.code})`;
  return 'key set unavailable';
}

/** A claim by exact name first (namespaced claims are URLs with dots), else as a dotted path. */
function claim(payload: JWTPayload, name: string): unknown {
  if (name in payload) return payload[name];
  let value: unknown = payload;
  for (const part of name.split('.')) {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

const SAFE = /^[^\p{Cc}]{1,256}$/u;

function claimValues(payload: JWTPayload, name: string): string[] | undefined {
  const value = claim(payload, name);
  if (typeof value === 'string') return [value];
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value;
  return undefined;
}

function single(payload: JWTPayload, name: string, what: string): string | undefined {
  const values = claimValues(payload, name);
  if (values === undefined) return undefined;
  if (values.length !== 1 || !SAFE.test(values[0] ?? ''))
    throw denied(`${what} claim '${name}' is not a single value`);
  return values[0];
}

const own = (map: Record<string, string>, key: string): string | undefined =>
  Object.prototype.hasOwnProperty.call(map, key) ? map[key] : undefined;

export function mapClaims(p: OidcProviderConfig, payload: JWTPayload): OidcIdentity {
  const c = p.claims;
  const subject = single(payload, c.subject, 'subject') ?? fail(`claim missing: ${c.subject}`);
  let tenantId: string;
  if ('fixed' in c.tenant) tenantId = c.tenant.fixed;
  else {
    const value = single(payload, c.tenant.claim, 'tenant') ?? fail(`claim missing: ${c.tenant.claim}`);
    tenantId = c.tenant.map ? (own(c.tenant.map, value) ?? fail(`tenant '${value}' is not mapped`)) : value;
  }
  const roleValues = claimValues(payload, c.role.claim) ?? [];
  const role = (Object.entries(c.role.map).find(([key]) => roleValues.includes(key))?.[1] ??
    c.role.default) as Role | undefined;
  if (role === undefined) fail(`no role: claim '${c.role.claim}' holds no mapped value`);
  const raw = single(payload, c.clearance.claim, 'clearance');
  let banner: string;
  if (raw === undefined) banner = c.clearance.default ?? fail(`claim missing: ${c.clearance.claim}`);
  else if (c.clearance.map) banner = own(c.clearance.map, raw) ?? fail(`clearance '${raw}' is not mapped`);
  else banner = raw;
  let clearance: string;
  try {
    clearance = canonicalLabel(parseCanonicalLabel(banner));
  } catch (cause) {
    throw denied('invalid clearance', cause);
  }
  let authorizations: string[] = [];
  if (c.authorizations) {
    const prefix = c.authorizations.prefix;
    authorizations = (claimValues(payload, c.authorizations.claim) ?? [])
      .filter((v) => v.startsWith(prefix) && SAFE.test(v) && v.length > prefix.length)
      .map((v) => v.slice(prefix.length));
    authorizations = [...new Set(authorizations)].sort();
  }
  const defaultLabel = mapDefaultLabel(c.defaultLabel, payload, clearance, authorizations);
  return {
    tenantId,
    subject,
    role: role as Role,
    clearance,
    authorizations,
    ...(defaultLabel ? { defaultLabel } : {}),
  };
}

/** A default can only lower what the holder writes at, never raise it: one above the clearance refuses the token. */
function mapDefaultLabel(
  mapping: OidcProviderConfig['claims']['defaultLabel'],
  payload: JWTPayload,
  clearance: string,
  authorizations: string[],
): string | undefined {
  const banner = (mapping?.claim && single(payload, mapping.claim, 'default label')) || mapping?.default;
  if (banner === undefined) return undefined;
  let label;
  try {
    label = parseCanonicalLabel(banner);
  } catch (cause) {
    throw denied('invalid default label', cause);
  }
  if (!canRead({ label: parseCanonicalLabel(clearance), authorizations }, label))
    fail('default label above the clearance');
  return canonicalLabel(label);
}

function fail(reason: string): never {
  throw denied(reason);
}

/** Builds the verifier from the `oidc` config section; key files are read now, so a bad path fails start-up. */
export function createOidcVerifier(input: OidcConfigInput): OidcVerifier {
  const parsed = oidcConfigSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new EnclaveError(
      'invalid_request',
      `Invalid config at ${['oidc', ...(issue?.path ?? [])].join('.')}: ${issue?.message}.`,
    );
  }
  const providers = new Map<string, { config: OidcProviderConfig; keys: JWTVerifyGetKey }>();
  for (const p of parsed.data.providers) {
    // An unparseable mapped clearance is a config error at start-up, not a per-request surprise.
    for (const label of [
      ...Object.values(p.claims.clearance.map ?? {}),
      p.claims.clearance.default ?? 'UNCLASSIFIED',
    ]) {
      try {
        parseCanonicalLabel(label);
      } catch (cause) {
        throw new EnclaveError(
          'invalid_request',
          `Invalid config at oidc: clearance '${label}' is not a valid label.`,
          { cause },
        );
      }
    }
    const fallbackDefault = p.claims.defaultLabel?.default;
    if (fallbackDefault !== undefined) {
      try {
        parseCanonicalLabel(fallbackDefault);
      } catch (cause) {
        throw new EnclaveError(
          'invalid_request',
          `Invalid config at oidc: default label '${fallbackDefault}' is not a valid label.`,
          { cause },
        );
      }
    }
    providers.set(p.issuer, { config: p, keys: providerKeys(p) });
  }
  return {
    async verify(token) {
      let issuer: unknown;
      try {
        issuer = decodeJwt(token).iss;
      } catch (cause) {
        throw denied('malformed token', cause);
      }
      const provider = typeof issuer === 'string' ? providers.get(issuer) : undefined;
      if (!provider) throw denied('wrong issuer');
      const p = provider.config;
      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(token, provider.keys, {
          issuer: p.issuer,
          audience: p.audience,
          algorithms: [...p.algorithms],
          clockTolerance: p.clockSkewSeconds,
          requiredClaims: ['exp'],
          ...(p.maxTokenAgeSeconds === undefined ? {} : { maxTokenAge: p.maxTokenAgeSeconds }),
        }));
      } catch (error) {
        throw denied(reasonOf(error), error);
      }
      return mapClaims(p, payload);
    },
  };
}
