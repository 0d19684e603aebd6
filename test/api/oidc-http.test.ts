import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';

/** OIDC bearer tokens through the real server: the claim mapping decides tenant, role and clearance. */
describe('OIDC bearer tokens over HTTP', () => {
  let server: TestServer;
  let sign: (claims: Record<string, unknown>, expiresIn?: string) => Promise<string>;
  const issuer = 'https://idp.example.test/';

  beforeAll(async () => {
    const { publicKey, privateKey } = await generateKeyPair('RS256');
    const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
    const dir = mkdtempSync(join(tmpdir(), 'enclave-jwks-'));
    const jwksFile = join(dir, 'jwks.json');
    writeFileSync(jwksFile, JSON.stringify({ keys: [jwk] }));
    sign = (claims, expiresIn = '5m') =>
      new SignJWT(claims)
        .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
        .setIssuer(issuer)
        .setAudience('enclave')
        .setIssuedAt()
        .setExpirationTime(expiresIn)
        .sign(privateKey);
    server = await startTestServer({
      configFile: {
        oidc: {
          providers: [
            {
              issuer,
              audience: 'enclave',
              jwksFile,
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
});
