import { createHmac } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';
import { auditEntries } from './labels-support.js';

/** OIDC bearer tokens through the real server: the claim mapping decides tenant, role and clearance. */
describe('OIDC bearer tokens over HTTP', () => {
  let server: TestServer;
  let sign: (claims: Record<string, unknown>, expiresIn?: string) => Promise<string>;
  const issuer = 'https://idp.example.test/';
  let jwksFile: string;
  interface Key {
    kid: string;
    privateKey: CryptoKey;
    jwk: JWK;
    pem: string;
  }
  const makeKey = async (kid: string): Promise<Key> => {
    const { publicKey, privateKey } = await generateKeyPair('RS256', { extractable: true });
    const jwk = { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' };
    return { kid, privateKey, jwk, pem: await exportSPKI(publicKey) };
  };
  let k1: Key;
  const signWith = (
    key: Key,
    claims: Record<string, unknown>,
    o: { expiresIn?: string; iss?: string; aud?: string } = {},
  ) =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', kid: key.kid })
      .setIssuer(o.iss ?? issuer)
      .setAudience(o.aud ?? 'enclave')
      .setIssuedAt()
      .setExpirationTime(o.expiresIn ?? '5m')
      .sign(key.privateKey);

  beforeAll(async () => {
    k1 = await makeKey('k1');
    const dir = mkdtempSync(join(tmpdir(), 'enclave-jwks-'));
    jwksFile = join(dir, 'jwks.json');
    writeFileSync(jwksFile, JSON.stringify({ keys: [k1.jwk] }));
    sign = (claims, expiresIn = '5m') => signWith(k1, claims, { expiresIn });
    server = await startTestServer({
      configFile: {
        oidc: {
          providers: [
            {
              issuer,
              audience: 'enclave',
              jwksFile,
              // Rotation is picked up on the first unknown kid (the default cooldown would defer it).
              jwksCooldownSeconds: 0,
              claims: {
                tenant: { claim: 'org' },
                role: { claim: 'groups', map: { 'enclave-admins': 'admin' }, default: 'user' },
                clearance: { claim: 'clearance' },
              },
            },
          ],
        },
      },
    });
  });
  afterAll(async () => server.close());

  const me = (token: string) =>
    fetch(`${server.baseUrl}/v1/me`, { headers: { authorization: `Bearer ${token}` } });

  it('maps a verified token to tenant, role and clearance', async () => {
    const token = await sign({
      sub: 'alice',
      org: 'acme',
      groups: ['enclave-admins'],
      clearance: 'SECRET//SI',
    });
    const response = await me(token);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      tenant: 'acme',
      subject: 'alice',
      role: 'admin',
      clearance: expect.stringMatching(/^SECRET/),
    });
  });

  it('refuses an expired token and a token from another issuer', async () => {
    expect((await me(await sign({ sub: 'a', org: 'acme', clearance: 'SECRET' }, '-1m'))).status).toBe(401);
    const forged = (await sign({ sub: 'a', org: 'acme', clearance: 'SECRET' })).split('.');
    forged[1] = Buffer.from(
      JSON.stringify({ sub: 'a', org: 'acme', iss: 'https://evil.test/', aud: 'enclave' }),
    ).toString('base64url');
    expect((await me(forged.join('.'))).status).toBe(401);
  });

  const claims = { sub: 'bob', org: 'acme', clearance: 'SECRET' };
  const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');
  const payload = () => ({
    ...claims,
    iss: issuer,
    aud: 'enclave',
    exp: Math.floor(Date.now() / 1000) + 300,
  });
  const refused = async (token: string) => {
    const response = await me(token);
    expect(response.status).toBe(401);
    // One generic message whatever the reason; the reason goes to the audit trail only.
    expect(await response.json()).toMatchObject({
      error: { type: 'authentication_error', code: 'unauthenticated' },
    });
  };

  it('refuses alg none, HS256 keyed with the RSA public key, wrong issuer or audience, and expiry', async () => {
    expect((await me(await sign(claims))).status).toBe(200);
    await refused(`${b64({ alg: 'none', typ: 'JWT' })}.${b64(payload())}.`);
    const hsInput = `${b64({ alg: 'HS256', typ: 'JWT', kid: 'k1' })}.${b64(payload())}`;
    // The classic confusion attack: an HMAC whose secret is the verifier's public key.
    for (const secret of [k1.pem, JSON.stringify(k1.jwk)]) {
      await refused(`${hsInput}.${createHmac('sha256', secret).update(hsInput).digest('base64url')}`);
    }
    await refused(await signWith(k1, claims, { iss: 'https://evil.test/' }));
    await refused(await signWith(k1, claims, { aud: 'someone-else' }));
    await refused(await signWith(k1, claims, { expiresIn: '-10m' }));
    // Each refusal is recorded with its reason (the client saw the same generic 401 every time).
    const rules = (await auditEntries(server)).filter((e) => e.type === 'auth.denied').map((e) => e.rule);
    expect(rules.length).toBeGreaterThanOrEqual(7);
    expect(rules.every((r) => r?.startsWith('auth.'))).toBe(true);
  });

  it('refuses an unknown kid, accepts a rotated key once the JWKS has it, and drops the removed key', async () => {
    const k2 = await makeKey('k2');
    const before = await signWith(k2, claims);
    await refused(before);
    // Rotation: the IdP publishes k2 beside k1, then retires k1.
    writeFileSync(jwksFile, JSON.stringify({ keys: [k1.jwk, k2.jwk] }));
    expect((await me(await signWith(k2, claims))).status).toBe(200);
    writeFileSync(jwksFile, JSON.stringify({ keys: [k2.jwk] }));
    // The file is re-read at most once a second (or on an unknown kid; k1 is still cached, so wait it out).
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    await refused(await sign(claims));
    expect((await me(await signWith(k2, claims))).status).toBe(200);
    // A key with the right kid but the wrong material is a forgery.
    const impostor = await makeKey('k2');
    await refused(await signWith(impostor, claims));
  });
});
