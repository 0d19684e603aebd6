import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli, spawnServer } from '../support/cli.js';

describe('enclave CLI: keys and serve', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'enclave-cli-'));
  const env = { ENCLAVE_DATA_DIR: dataDir };
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('lists every command in --help', async () => {
    const { code, stdout } = await runCli(['--help']);
    expect(code).toBe(0);
    for (const command of ['serve', 'keys']) expect(stdout).toContain(command);
  });

  it('creates a key printed alone on stdout, usable on an authenticated route, then revokes it', async () => {
    const created = await runCli(['keys', 'create', '--tenant', 't1', '--name', 'alice', '--role', 'admin'], {
      env,
    });
    expect(created.code).toBe(0);
    const key = created.stdout.trim();
    expect(created.stdout).toMatch(/^enc_[A-Za-z0-9_-]{32}\n$/);
    expect(statSync(join(dataDir, 'server-secret')).mode & 0o777).toBe(0o600);

    const server = spawnServer([], env);
    const url = await server.ready;
    const me = await fetch(`${url}/v1/me`, { headers: { authorization: `Bearer ${key}` } });
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({ tenant: 't1', role: 'admin' });

    const listed = await runCli(['keys', 'list', '--tenant', 't1'], { env });
    const record = JSON.parse(listed.stdout.trim().split('\n')[0] ?? '{}') as Record<string, unknown>;
    expect(record).toMatchObject({ tenantId: 't1', name: 'alice' });
    expect(listed.stdout).not.toContain(key);
    expect(listed.stdout).not.toContain('keyHash');

    expect((await runCli(['keys', 'revoke', '--tenant', 't1', String(record.id)], { env })).code).toBe(0);
    expect((await fetch(`${url}/v1/me`, { headers: { authorization: `Bearer ${key}` } })).status).toBe(401);

    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
  });

  it('refuses a duplicate key name with a clear message', async () => {
    await runCli(['keys', 'create', '--tenant', 't2', '--name', 'bob'], { env });
    const again = await runCli(['keys', 'create', '--tenant', 't2', '--name', 'bob'], { env });
    expect(again.code).not.toBe(0);
    expect(again.stderr).toMatch(/already exists/);
  });

  it('exits non-zero with one clear line when the database is unreachable', async () => {
    const { code, stderr } = await runCli(['serve'], {
      env: { ...env, DATABASE_URL: 'postgres://enclave:hunter2@127.0.0.1:1/none' },
    });
    expect(code).not.toBe(0);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toMatch(/Cannot reach PostgreSQL/);
    expect(stderr).not.toContain('hunter2');
  });
});
