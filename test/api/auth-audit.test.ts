import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EnclaveError } from '../../src/errors/index.js';
import { startTestServer, type TestServer } from '../support/server.js';

interface LoggedEntry {
  type: string;
  tenant: string;
  principal: string;
  rule?: string;
  detail?: { route?: string };
}

describe('authentication is audited and fails closed', () => {
  let server: TestServer;
  let key: string;
  beforeAll(async () => {
    server = await startTestServer();
    key = await server.key({ tenant: 'audited', role: 'user' });
  });
  afterAll(async () => server.close());

  const entries = async (): Promise<LoggedEntry[]> => {
    const head = await server.services.store.audit.head();
    const rows = await server.services.store.audit.entries(0, head.treeSize);
    return rows.map((r) => JSON.parse(r.entry) as LoggedEntry);
  };
  const me = (authorization?: string) =>
    fetch(`${server.baseUrl}/v1/me`, { headers: authorization ? { authorization } : {} });

  it('records a denial with its reason and an acceptance with the principal', async () => {
    expect((await me('Bearer enc_' + 'B'.repeat(32))).status).toBe(401);
    expect((await me()).status).toBe(401);
    expect((await me(`Bearer ${key}`)).status).toBe(200);
    const logged = await entries();
    expect(logged).toContainEqual(expect.objectContaining({ type: 'auth.denied', rule: 'auth.unknown' }));
    expect(logged).toContainEqual(expect.objectContaining({ type: 'auth.denied', rule: 'auth.missing' }));
    const ok = logged.find((e) => e.type === 'auth.ok' && e.tenant === 'audited');
    expect(ok).toMatchObject({ principal: expect.stringMatching(/^key_/), detail: { route: 'GET /v1/me' } });
    expect(JSON.stringify(logged)).not.toContain(key);
  });

  it('denies the request when the audit append fails', async () => {
    const audit = server.services.audit;
    const original = audit.append.bind(audit);
    (audit as { append: typeof audit.append }).append = async () => {
      throw new EnclaveError('audit_unavailable', 'The audit log cannot commit.');
    };
    try {
      const response = await me(`Bearer ${key}`);
      expect(response.status).toBe(503);
      expect(await response.json()).toMatchObject({ error: { code: 'audit_unavailable' } });
    } finally {
      (audit as { append: typeof audit.append }).append = original;
    }
    expect((await me(`Bearer ${key}`)).status).toBe(200);
  });
});
