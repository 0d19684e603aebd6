import { mkdtempSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DekCache } from './dek-cache.js';
import { LocalKeyProvider } from './local-key-provider.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'enclave-kek-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const ctx = { tenant: 't', scope: 'user:u', keyId: 'dk_1' };

describe('LocalKeyProvider', () => {
  it('creates a versioned key file (dir 0700, file 0600) on first use', async () => {
    const path = join(dir, 'keys', 'kek.json');
    const p = new LocalKeyProvider(path);
    expect(await p.currentVersion()).toBe(1);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'keys')).mode & 0o777).toBe(0o700);
    const ring = JSON.parse(readFileSync(path, 'utf8')) as { versions: { key: string }[] };
    expect(Buffer.from(ring.versions[0]?.key ?? '', 'base64url')).toHaveLength(32);
  });

  it('binds a wrapped key to its tenant, scope, id and version', async () => {
    const p = new LocalKeyProvider(join(dir, 'kek.json'));
    const made = await p.generateDataKey(ctx);
    expect(await p.unwrap(made, ctx)).toEqual(made.plaintext);
    for (const other of [
      { ...ctx, tenant: 't2' },
      { ...ctx, scope: 'user:v' },
      { ...ctx, keyId: 'dk_2' },
    ]) {
      await expect(p.unwrap(made, other)).rejects.toMatchObject({ code: 'decrypt_failed' });
    }
    await p.rotate();
    await expect(p.unwrap({ ...made, kekVersion: 2 }, ctx)).rejects.toMatchObject({ code: 'decrypt_failed' });
    const rewrapped = await p.wrap(made.plaintext, ctx);
    expect(rewrapped.kekVersion).toBe(2);
    expect(await p.unwrap(rewrapped, ctx)).toEqual(made.plaintext);
  });

  it('erases retired KEKs from the file and sees changes made by another instance', async () => {
    const path = join(dir, 'kek.json');
    const a = new LocalKeyProvider(path);
    const b = new LocalKeyProvider(path);
    const made = await a.generateDataKey(ctx);
    await b.rotate();
    expect(await a.currentVersion()).toBe(2);
    await b.retireBelow(2);
    await expect(a.unwrap(made, ctx)).rejects.toMatchObject({ message: expect.stringMatching(/retired/) });
    const ring = JSON.parse(readFileSync(path, 'utf8')) as { versions: { version: number; key?: string }[] };
    expect(ring.versions.find((v) => v.version === 1)?.key).toBeUndefined();
  });

  it("sees another process's rotation from the next event-loop turn on", async () => {
    const path = join(dir, 'kek.json');
    const a = new LocalKeyProvider(path);
    expect(await a.currentVersion()).toBe(1);
    // What `enclave keys rotate` in another process does: a new ring file renamed over the old one.
    const ring = JSON.parse(readFileSync(path, 'utf8')) as { current: number; versions: object[] };
    const next = {
      ...ring,
      current: 2,
      versions: [
        ...ring.versions,
        { version: 2, createdAt: 1, key: Buffer.alloc(32, 7).toString('base64url') },
      ],
    };
    writeFileSync(`${path}.other`, JSON.stringify(next), { mode: 0o600 });
    renameSync(`${path}.other`, path);
    await new Promise((resolve) => setImmediate(resolve));
    expect(await a.currentVersion()).toBe(2);
  });

  it('refuses a damaged key file instead of making a new one', async () => {
    const path = join(dir, 'kek.json');
    await new LocalKeyProvider(path).currentVersion();
    const { writeFileSync } = await import('node:fs');
    writeFileSync(path, '{"format":1}');
    await expect(new LocalKeyProvider(path).currentVersion()).rejects.toMatchObject({ code: 'unavailable' });
  });
});

describe('DekCache', () => {
  it('is bounded in size (least recently used first) and in age', () => {
    let now = 0;
    const cache = new DekCache(2, 100, () => now);
    const entry = { key: Buffer.alloc(32), tenant: 't', scope: 's', generation: 1 };
    cache.set('a', entry);
    cache.set('b', entry);
    cache.get('a');
    cache.set('c', entry);
    expect([cache.get('a'), cache.get('b'), cache.get('c')].map(Boolean)).toEqual([true, false, true]);
    now = 100;
    expect(cache.get('a')).toBeUndefined();
    expect(cache.size).toBe(1);
  });
});
