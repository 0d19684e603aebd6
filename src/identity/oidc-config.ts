import { z } from 'zod';
import { roles } from './principal.js';

/**
 * Config section `oidc` (see docs/labels.md, "OIDC"). Everything that decides who a token holder is — issuer,
 * audience, algorithms, keys and the claim mapping to tenant, role and clearance — is admin configuration; a
 * token only supplies claim values, which are looked up in it.
 */

/** Asymmetric algorithms only: an HMAC algorithm would let anyone holding the (public) key forge tokens. */
export const oidcAlgorithms = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
] as const;

const LOOPBACK = new Set(['127.0.0.1', '[::1]', 'localhost']);
const claimName = z.string().min(1).max(200);

const providerSchema = z
  .object({
    /** Exact `iss` value; tokens are routed to the provider whose issuer they name. */
    issuer: z.string().url(),
    audience: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]),
    algorithms: z.array(z.enum(oidcAlgorithms)).min(1).default(['RS256']),
    /** https (http only to a loopback address, e.g. a local key server). */
    jwksUrl: z.string().url().optional(),
    /** A JWKS JSON file for air-gapped installs; re-read when it changes or a token names an unknown key. */
    jwksFile: z.string().min(1).optional(),
    /** Allowed clock difference for exp/nbf/iat. Bounded: a large skew would revive expired tokens. */
    clockSkewSeconds: z.number().int().min(0).max(300).default(60),
    /** Refuse tokens issued (iat) longer ago than this, whatever their exp. */
    maxTokenAgeSeconds: z.number().int().positive().optional(),
    /** Minimum time between key set reloads triggered by an unknown `kid` (rotation). */
    jwksCooldownSeconds: z.number().min(0).max(3600).default(30),
    /** Remote key sets are refetched at least this often. */
    jwksCacheSeconds: z.number().positive().max(86_400).default(600),
    claims: z
      .object({
        subject: claimName.default('sub'),
        /** The tenant: a claim (optionally mapped value → tenant id) or one fixed tenant for this issuer. */
        tenant: z.union([
          z.object({ claim: claimName, map: z.record(z.string(), z.string().min(1)).optional() }).strict(),
          z.object({ fixed: z.string().min(1) }).strict(),
        ]),
        /** The first `map` entry (in config order) whose key is among the claim's values gives the role. */
        role: z
          .object({
            claim: claimName,
            map: z.record(z.string(), z.enum(roles)),
            default: z.enum(roles).optional(),
          })
          .strict(),
        /** Without `map` the claim holds a banner (`SECRET//SI`); with it, a value looked up in the map. */
        clearance: z
          .object({
            claim: claimName,
            map: z.record(z.string(), z.string()).optional(),
            default: z.string().optional(),
          })
          .strict(),
        /**
         * The label of a request that sends no `Enclave-Classification`: a banner from `claim`, else `default`;
         * absent = the clearance. It must lie within the clearance, else the token is refused.
         */
        defaultLabel: z
          .object({ claim: claimName.optional(), default: z.string().optional() })
          .strict()
          .optional(),
        /** Authorizations for access expressions, from a list claim; only values with `prefix`, prefix removed. */
        authorizations: z
          .object({ claim: claimName, prefix: z.string().default('') })
          .strict()
          .optional(),
      })
      .strict(),
  })
  .strict()
  .refine((p) => (p.jwksUrl === undefined) !== (p.jwksFile === undefined), {
    message: 'set exactly one of jwksUrl and jwksFile',
  })
  .refine(
    (p) =>
      p.jwksUrl === undefined ||
      p.jwksUrl.startsWith('https://') ||
      LOOPBACK.has(new URL(p.jwksUrl).hostname),
    {
      message: 'jwksUrl must use https (http is allowed only to a loopback address)',
    },
  );

export const oidcConfigSchema = z.object({ providers: z.array(providerSchema).default([]) }).strict();
export type OidcConfig = z.output<typeof oidcConfigSchema>;
export type OidcConfigInput = z.input<typeof oidcConfigSchema>;
export type OidcProviderConfig = z.output<typeof providerSchema>;
