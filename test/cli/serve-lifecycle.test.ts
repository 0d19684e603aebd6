import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { categories } from '../../src/safety/index.js';
import { runCli, spawnServer } from '../support/cli.js';
import { startMockOpenAI } from '../support/mock-openai.js';

/** `enclave serve` as an operator meets it: first start with no configuration, and a graceful stop. */
describe('enclave serve: first start and graceful shutdown', () => {
  const dirs: string[] = [];
  const fresh = (): string => {
    const dir = mkdtempSync(join(tmpdir(), 'enclave-serve-'));
    dirs.push(dir);
    return join(dir, 'data'); // not created yet: the first start makes it
  };
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  it('starts with no configuration, says where it listens and how to create a key', async () => {
    const dataDir = fresh();
    const server = spawnServer([], { ENCLAVE_DATA_DIR: dataDir });
    const url = await server.ready;
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    expect(statSync(join(dataDir, 'server-secret')).mode & 0o777).toBe(0o600);
    const key = await runCli(
      [
        'keys',
        'create',
        '--tenant',
        'default',
        '--name',
        'me',
        '--role',
        'admin',
        '--clearance',
        'SECRET',
        '--default-label',
        'CONFIDENTIAL',
      ],
      { env: { ENCLAVE_DATA_DIR: dataDir } },
    );
    const me = await fetch(`${url}/v1/me`, { headers: { authorization: `Bearer ${key.stdout.trim()}` } });
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({ clearance: 'SECRET', default_label: 'CONFIDENTIAL' });
    // A default above the clearance is refused with one clear line.
    const above = await runCli(
      [
        'keys',
        'create',
        '--tenant',
        'default',
        '--name',
        'x',
        '--clearance',
        'CONFIDENTIAL',
        '--default-label',
        'SECRET',
      ],
      { env: { ENCLAVE_DATA_DIR: dataDir } },
    );
    expect(above.code).not.toBe(0);
    expect(above.stderr).toMatch(/default label must be within/);
    server.child.kill('SIGTERM');
    expect(await server.exited, server.stderr()).toBe(0);
    expect(server.stdout()).toMatch(/listening on http:\/\/\S+/);
    expect(server.stdout()).toContain('enclave keys create --tenant');
  });

  it('drains an in-flight request on SIGTERM, then exits 0 and accepts no new work', async () => {
    const upstream = await startMockOpenAI({ delayMs: 1_500 });
    const dataDir = fresh();
    const env = { ENCLAVE_DATA_DIR: dataDir };
    // Make the data dir and a key first, then point a model at the slow upstream.
    const key = (await runCli(['keys', 'create', '--tenant', 't', '--name', 'k'], { env })).stdout.trim();
    writeFileSync(
      join(dataDir, 'config.json'),
      JSON.stringify({
        models: { endpoints: [{ id: 'openai/slow', baseUrl: upstream.url }] },
        // This test is about shutdown: the safety stack only flags (see test/support/server.ts).
        safety: {
          policy: {
            version: 'test-monitor/1',
            rules: Object.fromEntries(categories.map((c) => [c, { threshold: 0.5, action: 'flag' }])),
          },
        },
      }),
    );
    const server = spawnServer([], env);
    const url = await server.ready;
    try {
      const inFlight = fetch(`${url}/v1/responses`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'openai/slow', input: 'finish me', store: true }),
      });
      // Stop only once the request is surely inside the server: the upstream has it.
      const early = inFlight.then(async (r) => `answered ${r.status} ${await r.clone().text()}`);
      while (upstream.chatRequests().length === 0) {
        const done = await Promise.race([early, new Promise((r) => setTimeout(r, 20, undefined))]);
        if (done !== undefined)
          throw new Error(`the request ended before reaching the upstream: ${String(done)}`);
      }
      server.child.kill('SIGTERM');
      const response = await inFlight;
      expect(response.status).toBe(200);
      const body = (await response.json()) as { status: string; output: unknown[] };
      expect(body.status).toBe('completed');
      expect(JSON.stringify(body.output)).toContain('[mock] finish me');
      expect(await server.exited, server.stderr()).toBe(0);
      // Closed: nothing listens any more.
      await expect(fetch(`${url}/healthz`)).rejects.toThrow();
    } finally {
      server.child.kill('SIGKILL');
      await upstream.close();
    }
  });
});
