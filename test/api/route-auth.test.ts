import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../../src/identity/api-keys.js';
import { allRoutes } from '../../src/api/routes/index.js';
import { roles, type Role } from '../../src/identity/principal.js';
import { startTestServer, type TestServer } from '../support/server.js';

/**
 * Walks the whole route table: every route but /healthz must refuse a missing key, an unknown key,
 * a revoked key, an expired key and (where it restricts roles) a key of the wrong role — before it
 * even reads the body.
 */
describe('every route requires a live key of an allowed role', () => {
  let server: TestServer;
  const keys = {} as Record<Role, string>;
  let revoked: string;
  let expired: string;

  beforeAll(async () => {
    server = await startTestServer();
    for (const role of roles) keys[role] = await server.key({ role });
    const toRevoke = await createApiKey(server.services.store, server.services.serverSecret, {
      tenantId: 'tenant-a',
      name: 'revoked',
      role: 'admin',
      clearance: 'UNCLASSIFIED',
    });
    revoked = toRevoke.key;
    await server.services.store.apiKeys.revoke('tenant-a', toRevoke.record.id);
    expired = (
      await createApiKey(server.services.store, server.services.serverSecret, {
        tenantId: 'tenant-a',
        name: 'expired',
        role: 'admin',
        clearance: 'UNCLASSIFIED',
        expiresAt: Date.now() - 1000,
      })
    ).key;
  });
  afterAll(async () => server.close());

  const call = (method: string, url: string, key?: string) =>
    fetch(server.baseUrl + url.replace(/:([A-Za-z_]+)/g, 'x_$1'), {
      method,
      headers: {
        ...(key ? { authorization: `Bearer ${key}` } : {}),
        ...(method === 'POST' ? { 'content-type': 'application/json' } : {}),
      },
      ...(method === 'POST' ? { body: '{}' } : {}),
    });

  it('has routes to check', () => {
    expect(allRoutes.length).toBeGreaterThan(3);
  });

  for (const route of allRoutes) {
    if (route.auth === 'public') {
      it(`${route.method} ${route.url} is public and reveals nothing`, async () => {
        expect(route.url).toBe('/healthz');
        expect((await call(route.method, route.url)).status).toBe(200);
      });
      continue;
    }
    const allowed = route.auth;
    it(`${route.method} ${route.url} refuses no key, unknown, revoked, expired and wrong-role keys`, async () => {
      for (const key of [undefined, 'enc_' + 'A'.repeat(32), 'not-a-key', revoked, expired]) {
        const response = await call(route.method, route.url, key);
        expect(response.status).toBe(401);
        const body = (await response.json()) as { error: { type: string; code: string } };
        expect(body.error).toMatchObject({ type: 'authentication_error', code: 'unauthenticated' });
      }
      for (const role of roles.filter((r) => !allowed.includes(r))) {
        const response = await call(route.method, route.url, keys[role]);
        expect(response.status).toBe(403);
      }
      for (const role of allowed) {
        const response = await call(route.method, route.url, keys[role]);
        expect([401, 403]).not.toContain(response.status);
      }
    });
  }
});
