import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MemoryAudit } from '../../../test/support/crypto-fixture.js';
import { createContentCipher } from '../../crypto/content-cipher.js';
import { DataKeys } from '../../crypto/data-keys.js';
import { LocalKeyProvider, defaultKekPath } from '../../crypto/local-key-provider.js';
import { rewrapSqliteKey, sqliteKeyFor } from '../../crypto/sqlite-key.js';
import { openStore } from '../../store/open-store.js';
import { addDataKeyCommands } from './data-keys.js';

let dataDir: string;
let audit: MemoryAudit;
beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'enclave-cli-keys-'));
  audit = new MemoryAudit();
});
afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

/** Runs `enclave --data-dir D keys …args` in-process with an injected audit log; returns stdout. */
async function run(...args: string[]): Promise<string> {
  const program = new Command('enclave').option('--data-dir <dir>').exitOverride();
  program.addCommand(addDataKeyCommands(new Command('keys').exitOverride(), () => audit));
  let out = '';
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out += String(chunk);
    return true;
  });
  try {
    await program.parseAsync(['--data-dir', dataDir, 'keys', ...args], { from: 'user' });
  } finally {
    spy.mockRestore();
  }
  return out;
}

const ctx = { tenant: 't', objectId: 'o', kind: 'message', label: 'L', scope: 'user:u' };

async function withCipher<T>(fn: (cipher: ReturnType<typeof createContentCipher>) => Promise<T>): Promise<T> {
  // Opened as the server opens it: the whole SQLite file is encrypted under the data dir's key.
  const store = await openStore({ dataDir, sqliteKey: await sqliteKeyFor(dataDir) });
  try {
    const keys = new DataKeys({
      repo: store.dataKeys,
      provider: new LocalKeyProvider(defaultKekPath(dataDir)),
      audit,
    });
    return await fn(createContentCipher(keys));
  } finally {
    await store.close();
  }
}

describe('enclave keys rotate | rewrap | retire', () => {
  it('rotates, refuses to strand data, rewraps, then retires with everything readable', async () => {
    const sealed = await withCipher((c) => c.seal(ctx, 'before rotation'));
    expect(JSON.parse(await run('rotate'))).toEqual({ version: 2 });
    await expect(run('retire', '--below', '2')).rejects.toMatchObject({
      code: 'conflict',
      message: expect.stringMatching(/SQLite key is wrapped under version 1/),
    });
    expect(JSON.parse(await run('rewrap'))).toMatchObject({ toVersion: 2, rewrapped: 1, failed: [] });
    expect(JSON.parse(await run('retire', '--below', '2'))).toEqual({ minDecryptVersion: 2, stranded: 0 });
    expect(await withCipher((c) => c.open(ctx, sealed))).toBe('before rotation');
    expect(audit.entries.map((e) => e.type)).toEqual(['key.rotate', 'key.rewrap', 'key.retire']);
  });

  it('retire --force strands data on purpose; bad versions are refused', async () => {
    const sealed = await withCipher((c) => c.seal(ctx, 'old'));
    await run('rotate');
    // Only the data keys are left behind: the SQLite file key moves to the new version first.
    await rewrapSqliteKey(dataDir, new LocalKeyProvider(defaultKekPath(dataDir)));
    await expect(run('retire', '--below', 'two')).rejects.toMatchObject({ code: 'invalid_request' });
    expect(JSON.parse(await run('retire', '--below', '2', '--force'))).toEqual({
      minDecryptVersion: 2,
      stranded: 1,
    });
    await expect(withCipher((c) => c.open(ctx, sealed))).rejects.toMatchObject({
      message: expect.stringMatching(/retired/),
    });
  });

  it('refuses key changes when no audit log is available (fail-closed)', async () => {
    const program = new Command('enclave').option('--data-dir <dir>').exitOverride();
    program.addCommand(addDataKeyCommands(new Command('keys'), () => undefined));
    await expect(
      program.parseAsync(['--data-dir', dataDir, 'keys', 'rotate'], { from: 'user' }),
    ).rejects.toMatchObject({
      code: 'audit_unavailable',
    });
  });
});
