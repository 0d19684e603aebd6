import { statSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cryptoFixture, type CryptoFixture } from '../../test/support/crypto-fixture.js';
import type { SealContext } from './content-cipher.js';
import { retireKeys, rewrapKeys, rotateKeys, shredScope, strandedBelow } from './key-lifecycle.js';
import { defaultKekPath } from './local-key-provider.js';
import { parseSealed } from './sealed-format.js';

let f: CryptoFixture;
beforeEach(async () => {
  f = await cryptoFixture();
});
afterEach(async () => f.close());

const ctx = (objectId: string, scope = 'user:u1'): SealContext => ({
  tenant: 't1',
  objectId,
  kind: 'message',
  label: 'L',
  scope,
});

async function sealMany(prefix: string, n: number, scope?: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (let i = 0; i < n; i++)
    out.set(`${prefix}${i}`, await f.cipher.seal(ctx(`${prefix}${i}`, scope), `text ${prefix}${i}`));
  return out;
}

async function expectAllReadable(sealed: Map<string, string>, scope?: string): Promise<void> {
  const { cipher } = f.fresh();
  for (const [id, value] of sealed) expect(await cipher.open(ctx(id, scope), value)).toBe(`text ${id}`);
}

describe('key lifecycle', () => {
  it('creates the key file 0600 on first use', async () => {
    await f.cipher.seal(ctx('o'), 'x');
    expect(statSync(defaultKekPath(f.dataDir)).mode & 0o777).toBe(0o600);
  });

  it('rotate makes new writes use a new data key under the new version; old data stays readable', async () => {
    const before = await sealMany('a', 3);
    expect(await rotateKeys(f.keys)).toBe(2);
    const after = await sealMany('b', 3);
    const oldKey = parseSealed([...before.values()][0] ?? '');
    const newKey = parseSealed([...after.values()][0] ?? '');
    expect(oldKey.keyVersion).toBe(1);
    expect(newKey.keyVersion).toBe(2);
    expect(newKey.keyId).not.toBe(oldKey.keyId);
    await expectAllReadable(new Map([...before, ...after]));
    expect(f.audit.entries).toContainEqual(
      expect.objectContaining({ type: 'key.rotate', fromVersion: 1, version: 2 }),
    );
  });

  it('rewrap moves every data key to the newest KEK without touching content; then retiring is safe', async () => {
    const before = await sealMany('a', 3);
    await sealMany('c', 2, 'conversation:c1');
    await rotateKeys(f.keys);
    const after = await sealMany('b', 2);
    const snapshot = new Map(before);
    expect(await strandedBelow(f.keys, 2)).toBe(2);
    const result = await rewrapKeys(f.keys, 1);
    expect(result).toMatchObject({ toVersion: 2, rewrapped: 2, failed: [] });
    expect(await strandedBelow(f.keys, 2)).toBe(0);
    // The ciphertexts are byte-for-byte what they were: content was never decrypted or re-encrypted.
    expect(before).toEqual(snapshot);
    await retireKeys(f.keys, 2);
    await expectAllReadable(new Map([...before, ...after]));
    expect(f.audit.entries.map((e) => e.type)).toEqual(['key.rotate', 'key.rewrap', 'key.retire']);
  });

  it('a raised minimum version refuses data still under the old KEK, with a clear error', async () => {
    const old = await sealMany('a', 2);
    await rotateKeys(f.keys);
    const fresh = await sealMany('b', 1, 'user:u2');
    expect(await retireKeys(f.keys, 2)).toEqual({ stranded: 1 });
    const [id, value] = [...old][0] ?? ['', ''];
    for (const cipher of [f.cipher, f.fresh().cipher]) {
      await expect(cipher.open(ctx(id), value)).rejects.toMatchObject({
        code: 'decrypt_failed',
        message: expect.stringMatching(
          /version 1, which was retired \(the minimum decryption version is 2\)/,
        ),
      });
    }
    await expectAllReadable(fresh, 'user:u2');
    // Retired KEKs are erased from the key file, and the minimum never goes down.
    await expect(retireKeys(f.keys, 1)).rejects.toMatchObject({ code: 'invalid_request' });
    // A rewrap cannot rescue a key under a retired version; it reports it instead.
    expect((await rewrapKeys(f.keys)).failed).toHaveLength(1);
  });

  it('cannot retire the current version', async () => {
    await expect(retireKeys(f.keys, 2)).rejects.toMatchObject({ code: 'invalid_request' });
  });

  it('shred destroys a scope’s keys, makes its data unreadable for good and writes a receipt', async () => {
    const doomed = await sealMany('a', 3, 'conversation:gone');
    await rotateKeys(f.keys);
    const doomed2 = await sealMany('b', 1, 'conversation:gone');
    const kept = await sealMany('k', 2, 'conversation:kept');
    const keyIds = [...new Set([...doomed.values(), ...doomed2.values()].map((s) => parseSealed(s).keyId))];
    expect(keyIds).toHaveLength(2);
    const result = await shredScope(f.keys, 't1', 'conversation:gone');
    expect(result.keyIds.sort()).toEqual([...keyIds].sort());
    for (const cipher of [f.cipher, f.fresh().cipher]) {
      for (const [id, value] of [...doomed, ...doomed2]) {
        await expect(cipher.open(ctx(id, 'conversation:gone'), value)).rejects.toMatchObject({
          code: 'decrypt_failed',
          message: expect.stringMatching(/crypto-shredded/),
        });
      }
    }
    await expectAllReadable(kept, 'conversation:kept');
    const receipt = f.audit.entries.find((e) => e.type === 'deletion.receipt');
    expect(receipt).toMatchObject({ type: 'deletion.receipt', tenant: 't1', scope: 'conversation:gone' });
    expect((receipt?.keyIds as string[]).sort()).toEqual([...keyIds].sort());
    expect(typeof receipt?.time).toBe('number');
    // New writes to the scope get a brand-new key.
    const reborn = await f.cipher.seal(ctx('new', 'conversation:gone'), 'text new');
    expect(keyIds).not.toContain(parseSealed(reborn).keyId);
  });

  it('shred is fail-closed: no receipt, no destruction', async () => {
    const data = await sealMany('a', 1, 'user:keep');
    f.audit.failing = true;
    await expect(shredScope(f.keys, 't1', 'user:keep')).rejects.toThrow(/audit/);
    await expect(rotateKeys(f.keys)).rejects.toThrow(/audit/);
    f.audit.failing = false;
    await expectAllReadable(data, 'user:keep');
    expect(await f.keys.provider.currentVersion()).toBe(1);
  });

  it('a rotation from another process reaches this one through the key file', async () => {
    const other = f.fresh();
    await rotateKeys(other.keys);
    expect(parseSealed(await f.cipher.seal(ctx('x'), 'text x')).keyVersion).toBe(2);
  });
});
