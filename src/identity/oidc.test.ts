import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  exportJWK,
  exportSPKI,
  generateKeyPair,
  SignJWT,
  type JWK,
  type JWTPayload,
  type CryptoKey,
} from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EnclaveError } from '../errors/index.js';
import { createOidcVerifier, type OidcConfigInput, type OidcVerifier } from './oidc.js';

const ISSUER = 'https://idp.example.test/realms/enclave';
const AUDIENCE = 'enclave-api';

interface TestKey {
  kid: string;
  privateKey: CryptoKey;
  jwk: JWK;
  pem: string;
}
async function makeKey(kid: string): Promise<TestKey> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  return {
    kid,
    privateKey,
    jwk: { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' },
    pem: await exportSPKI(publicKey),
  };
}

const now = (): number => Math.floor(Date.now() / 1000);
const goodClaims = (): JWTPayload => ({
  sub: 'alice',
  tenant: 'acme',
  groups: ['enclave-users', 'enclave:auth:A', 'enclave:auth:B', 'other'],
  clearance: 'ts-sci',
  iat: now(),
  exp: now() + 300,
});

async function sign(
  key: TestKey,
  claims: JWTPayload = goodClaims(),
  header: Record<string, unknown> = {},
): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'RS256', kid: key.kid, ...header })
    .setIssuer(String(claims.iss ?? ISSUER))
    .setAudience(claims.aud ?? AUDIENCE)
    .sign(key.privateKey);
}

const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

function config(
  keySource: { jwksFile: string } | { jwksUrl: string },
  extra: Record<string, unknown> = {},
): OidcConfigInput {
  return {
    providers: [
      {
        issuer: ISSUER,
        audience: AUDIENCE,
        ...keySource,
        jwksCooldownSeconds: 0,
        clockSkewSeconds: 30,
        claims: {
          tenant: { claim: 'tenant' },
          role: { claim: 'groups', map: { 'enclave-admins': 'admin', 'enclave-users': 'user' } },
          clearance: { claim: 'clearance', map: { 'ts-sci': 'TOP SECRET//SI/TK//NOFORN', secret: 'SECRET' } },
          authorizations: { claim: 'groups', prefix: 'enclave:auth:' },
        },
        ...extra,
      },
    ],
  };
}

async function reason(verifier: OidcVerifier, token: string): Promise<string> {
  try {
    await verifier.verify(token);
  } catch (error) {
    expect(error).toBeInstanceOf(EnclaveError);
    expect((error as EnclaveError).code).toBe('unauthenticated');
    expect((error as EnclaveError).message).not.toMatch(/expired|issuer|audience|kid/i); // one generic message
    return ((error as EnclaveError).cause as Error).message;
  }
  throw new Error('token was accepted');
}

describe('OIDC bearer verification against a local JWKS file', () => {
  let dir: string;
  let file: string;
  let k1: TestKey;
  let k2: TestKey;
  let verifier: OidcVerifier;

  beforeAll(async () => {
    [k1, k2] = await Promise.all([makeKey('k1'), makeKey('k2')]);
    dir = mkdtempSync(join(tmpdir(), 'enclave-oidc-'));
    file = join(dir, 'jwks.json');
    writeFileSync(file, JSON.stringify({ keys: [k1.jwk] }));
    verifier = createOidcVerifier(config({ jwksFile: file }));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('maps a valid token to tenant, role, clearance and authorizations', async () => {
    expect(await verifier.verify(await sign(k1))).toEqual({
      tenantId: 'acme',
      subject: 'alice',
      role: 'user',
      clearance: 'TOP SECRET//SI/TK//NOFORN',
      authorizations: ['A', 'B'],
    });
  });

  it('refuses alg none, HS256 keyed with the RSA public key, and a forged signature', async () => {
    const claims = { ...goodClaims(), iss: ISSUER, aud: AUDIENCE };
    expect(await reason(verifier, `${b64({ alg: 'none', kid: 'k1' })}.${b64(claims)}.`)).toBe(
      'oidc: algorithm not allowed',
    );
    for (const secret of [k1.pem, JSON.stringify(k1.jwk)]) {
      const hs = await new SignJWT(claims)
        .setProtectedHeader({ alg: 'HS256', kid: 'k1' })
        .sign(new TextEncoder().encode(secret));
      expect(await reason(verifier, hs)).toBe('oidc: algorithm not allowed');
    }
    const [h, p] = (await sign(k1)).split('.');
    const [, , otherSig] = (await sign(k1, { ...goodClaims(), sub: 'mallory' })).split('.');
    expect(await reason(verifier, `${h}.${p}.${otherSig}`)).toBe('oidc: bad signature');
    expect(await reason(verifier, 'not-a-jwt')).toBe('oidc: malformed token');
  });

  it('pins issuer and audience', async () => {
    expect(
      await reason(verifier, await sign(k1, { ...goodClaims(), iss: 'https://evil.example.test' })),
    ).toBe('oidc: wrong issuer');
    expect(await reason(verifier, await sign(k1, { ...goodClaims(), aud: 'another-api' }))).toBe(
      'oidc: wrong audience',
    );
  });

  it('checks exp and nbf with a bounded skew', async () => {
    expect(await reason(verifier, await sign(k1, { ...goodClaims(), exp: now() - 60 }))).toBe(
      'oidc: expired',
    );
    expect(await reason(verifier, await sign(k1, { ...goodClaims(), nbf: now() + 120 }))).toBe(
      'oidc: not yet valid',
    );
    const { exp: _exp, ...noExp } = goodClaims();
    expect(await reason(verifier, await sign(k1, noExp))).toMatch(/^oidc: claim exp/);
    // Within the 30 s skew both still pass.
    await expect(verifier.verify(await sign(k1, { ...goodClaims(), exp: now() - 10 }))).resolves.toBeTruthy();
    await expect(verifier.verify(await sign(k1, { ...goodClaims(), nbf: now() + 10 }))).resolves.toBeTruthy();
  });

  it('refuses an unknown kid, then accepts a rotated key once the file has it, and drops the removed key', async () => {
    expect(await reason(verifier, await sign(k2))).toBe('oidc: unknown key');
    writeFileSync(file, JSON.stringify({ keys: [k2.jwk] }));
    expect((await verifier.verify(await sign(k2))).subject).toBe('alice');
    expect(await reason(verifier, await sign(k1))).toBe('oidc: unknown key');
  });

  it('denies when a mapped claim is missing or unmapped', async () => {
    writeFileSync(file, JSON.stringify({ keys: [k1.jwk, k2.jwk] }));
    const without = (name: string): JWTPayload =>
      Object.fromEntries(Object.entries(goodClaims()).filter(([k]) => k !== name));
    expect(await reason(verifier, await sign(k2, without('sub')))).toBe('oidc: claim missing: sub');
    expect(await reason(verifier, await sign(k2, without('tenant')))).toBe('oidc: claim missing: tenant');
    expect(await reason(verifier, await sign(k2, without('clearance')))).toBe(
      'oidc: claim missing: clearance',
    );
    expect(await reason(verifier, await sign(k2, without('groups')))).toMatch(/^oidc: no role/);
    expect(await reason(verifier, await sign(k2, { ...goodClaims(), clearance: 'TOP SECRET' }))).toBe(
      "oidc: clearance 'TOP SECRET' is not mapped",
    );
    expect(await reason(verifier, await sign(k2, { ...goodClaims(), tenant: ['a', 'b'] }))).toMatch(
      /not a single value/,
    );
    const admin = await verifier.verify(
      await sign(k2, { ...goodClaims(), groups: ['enclave-users', 'enclave-admins'] }),
    );
    expect(admin.role).toBe('admin'); // first map entry in config order wins
    expect(admin.authorizations).toEqual([]);
  });

  it('takes a banner from the claim when no clearance map is configured, and refuses an invalid one', async () => {
    const c = config({ jwksFile: file });
    const claims = c.providers?.[0]?.claims;
    if (claims) claims.clearance = { claim: 'clearance' };
    const direct = createOidcVerifier(c);
    expect(await reason(direct, await sign(k2, { ...goodClaims(), clearance: 'SECRET//NF' }))).toBe(
      'oidc: invalid clearance',
    );
    expect(
      (await direct.verify(await sign(k2, { ...goodClaims(), clearance: 'SECRET//REL TO USA, GBR' })))
        .clearance,
    ).toBe('SECRET//REL TO USA, GBR');
  });

  it('maps a default label from a claim or the config, only within the clearance', async () => {
    const c = config({ jwksFile: file });
    const claims = c.providers?.[0]?.claims;
    if (claims) claims.defaultLabel = { claim: 'default_label', default: 'CUI' };
    const mapped = createOidcVerifier(c);
    expect((await mapped.verify(await sign(k2))).defaultLabel).toBe('CUI');
    const fromClaim = await mapped.verify(await sign(k2, { ...goodClaims(), default_label: 'SECRET//SI' }));
    expect(fromClaim.defaultLabel).toBe('SECRET//SI');
    expect(fromClaim.clearance).toBe('TOP SECRET//SI/TK//NOFORN');
    // A default above the clearance (here: a SECRET holder asking for TOP SECRET) refuses the token.
    expect(
      await reason(
        mapped,
        await sign(k2, { ...goodClaims(), clearance: 'secret', default_label: 'TOP SECRET' }),
      ),
    ).toBe('oidc: default label above the clearance');
    expect(await reason(mapped, await sign(k2, { ...goodClaims(), default_label: 'SECRET//BOGUS' }))).toBe(
      'oidc: invalid default label',
    );
    // Without a mapping the default is left to the clearance.
    expect(await verifier.verify(await sign(k2))).not.toHaveProperty('defaultLabel');
  });
});

describe('OIDC config', () => {
  it('refuses HMAC algorithms, two or no key sources, plain http to a remote host and bad clearances', () => {
    const base = config({ jwksUrl: 'https://idp.example.test/jwks' });
    const provider = base.providers?.[0] ?? {};
    const bad =
      (patch: Record<string, unknown>): (() => unknown) =>
      () =>
        createOidcVerifier({ providers: [{ ...provider, ...patch } as never] });
    expect(bad({ algorithms: ['HS256'] })).toThrow(/Invalid config at oidc\.providers\.0\.algorithms/);
    expect(bad({ jwksFile: '/x' })).toThrow(/exactly one of jwksUrl and jwksFile/);
    expect(bad({ jwksUrl: 'http://idp.example.test/jwks' })).toThrow(/must use https/);
    expect(bad({ jwksUrl: undefined, jwksFile: '/nonexistent/jwks.json' })).toThrow(/cannot be read/);
    expect(bad({ clockSkewSeconds: 3600 })).toThrow(/clockSkewSeconds/);
    expect(
      bad({
        claims: {
          ...(provider as { claims: object }).claims,
          clearance: { claim: 'c', map: { x: 'SECRET//BOGUS' } },
        },
      }),
    ).toThrow(/clearance 'SECRET\/\/BOGUS' is not a valid label/);
  });
});

describe('OIDC bearer verification against a remote JWKS URL', () => {
  let server: Server;
  let served: JWK[] = [];
  let fetches = 0;
  let k1: TestKey;
  let k2: TestKey;
  let verifier: OidcVerifier;

  beforeAll(async () => {
    [k1, k2] = await Promise.all([makeKey('r1'), makeKey('r2')]);
    served = [k1.jwk];
    server = createServer((_req, res) => {
      fetches++;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ keys: served }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    verifier = createOidcVerifier(config({ jwksUrl: `http://127.0.0.1:${port}/jwks` }));
  });
  afterAll(async () => new Promise<void>((resolve) => server.close(() => resolve())));

  it('fetches once, refetches for a rotated key, and forgets a removed one', async () => {
    expect((await verifier.verify(await sign(k1))).tenantId).toBe('acme');
    expect((await verifier.verify(await sign(k1))).tenantId).toBe('acme');
    expect(fetches).toBe(1);
    served = [k2.jwk];
    expect((await verifier.verify(await sign(k2))).subject).toBe('alice');
    expect(fetches).toBe(2);
    expect(await reason(verifier, await sign(k1))).toBe('oidc: unknown key');
  });

  it('refuses an unknown kid the server does not have either', async () => {
    const k3 = await makeKey('r3');
    expect(await reason(verifier, await sign(k3))).toBe('oidc: unknown key');
  });
});
