import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cryptoFixture, type CryptoFixture } from '../../test/support/crypto-fixture.js';
import { EnclaveError } from '../errors/index.js';
import { IV_BYTES, TAG_BYTES } from './aes-gcm.js';
import type { SealContext } from './content-cipher.js';
import { parseSealed, formatSealed } from './sealed-format.js';

let f: CryptoFixture;
beforeAll(async () => {
  f = await cryptoFixture();
});
afterAll(async () => f.close());

const ctx = (over: Partial<SealContext> = {}): SealContext => ({
  tenant: 't1',
  objectId: 'msg_1',
  kind: 'message',
  label: 'lbl_secret',
  scope: 'conversation:c1',
  ...over,
});

const flipBit = (sealed: string, byteIndex: (length: number) => number): string => {
  const parts = parseSealed(sealed);
  const box = Buffer.from(parts.box);
  const i = byteIndex(box.length);
  box[i] = (box[i] ?? 0) ^ 0x01;
  return formatSealed({ ...parts, box });
};

const refuses = async (promise: Promise<string>, text?: RegExp): Promise<EnclaveError> => {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(EnclaveError);
  const e = error as EnclaveError;
  expect(e.code).toBe('decrypt_failed');
  if (text) expect(e.message).toMatch(text);
  return e;
};

describe('ContentCipher', () => {
  it('round-trips text, unicode and the empty string, with a fresh IV each time', async () => {
    for (const text of ['hello', '', 'Ünïcødé ✓ 🛰️ 中文', 'x'.repeat(100_000)]) {
      const sealed = await f.cipher.seal(ctx(), text);
      expect(sealed.startsWith('ev1.dk_')).toBe(true);
      expect(sealed).not.toContain(text || '\u0000');
      expect(await f.cipher.open(ctx(), sealed)).toBe(text);
    }
    const [a, b] = [await f.cipher.seal(ctx(), 'same'), await f.cipher.seal(ctx(), 'same')];
    expect(a).not.toBe(b);
    expect(parseSealed(a).box.subarray(0, IV_BYTES)).not.toEqual(parseSealed(b).box.subarray(0, IV_BYTES));
  });

  it('opens from another process (cold cache) through the wrapped key', async () => {
    const sealed = await f.cipher.seal(ctx(), 'persisted');
    expect(await f.fresh().cipher.open(ctx(), sealed)).toBe('persisted');
  });

  it('refuses a flipped bit in the IV, the ciphertext and the tag, without leaking the plaintext', async () => {
    const secret = 'the launch code is 0000';
    const sealed = await f.cipher.seal(ctx(), secret);
    const positions: [string, (n: number) => number][] = [
      ['iv', () => 3],
      ['ciphertext', () => IV_BYTES + 5],
      ['tag', (n) => n - TAG_BYTES + 7],
      ['last tag byte', (n) => n - 1],
    ];
    for (const [, at] of positions) {
      const e = await refuses(f.cipher.open(ctx(), flipBit(sealed, at)), /failed authentication/);
      expect(e.message).not.toContain(secret);
    }
  });

  it('refuses when any AAD field differs: tenant, object id, kind, label', async () => {
    const sealed = await f.cipher.seal(ctx(), 'bound');
    await refuses(f.cipher.open(ctx({ objectId: 'msg_2' }), sealed), /msg_2 failed authentication/);
    await refuses(f.cipher.open(ctx({ kind: 'memory' }), sealed));
    await refuses(f.cipher.open(ctx({ label: 'lbl_unclassified' }), sealed));
    // Another tenant cannot even find the key (keys are looked up within the tenant).
    await refuses(f.cipher.open(ctx({ tenant: 't2' }), sealed), /does not exist/);
    await refuses(f.cipher.open(ctx({ scope: 'conversation:c2' }), sealed), /another scope/);
  });

  it('refuses when the recorded key version, key id or format version is changed', async () => {
    const sealed = await f.cipher.seal(ctx(), 'bound');
    const parts = parseSealed(sealed);
    await refuses(
      f.cipher.open(ctx(), formatSealed({ ...parts, keyVersion: parts.keyVersion + 1 })),
      /failed authentication/,
    );
    await refuses(f.cipher.open(ctx(), sealed.replace(/^ev1\./, 'ev2.')), /format version 2/);
    // Another real key of the same tenant and scope: the AAD names the original key id.
    const otherScopeKey = parseSealed(await f.cipher.seal(ctx({ scope: 'conversation:c9' }), 'x')).keyId;
    await refuses(f.cipher.open(ctx(), formatSealed({ ...parts, keyId: otherScopeKey })), /another scope/);
    await refuses(f.cipher.open(ctx(), 'not sealed at all'), /not in the sealed format/);
    await refuses(f.cipher.open(ctx(), sealed.slice(0, 30)), /truncated|sealed format/);
  });

  it('refuses ciphertexts swapped between two rows of the same scope and label', async () => {
    const a = await f.cipher.seal(ctx({ objectId: 'row_a' }), 'content of a');
    const b = await f.cipher.seal(ctx({ objectId: 'row_b' }), 'content of b');
    expect(parseSealed(a).keyId).toBe(parseSealed(b).keyId);
    await refuses(f.cipher.open(ctx({ objectId: 'row_a' }), b));
    await refuses(f.cipher.open(ctx({ objectId: 'row_b' }), a));
    expect(await f.cipher.open(ctx({ objectId: 'row_a' }), a)).toBe('content of a');
  });

  it('uses one data key per tenant and scope, even for concurrent first writers', async () => {
    const fresh = f.fresh();
    const sealed = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        (i % 2 ? f : fresh).cipher.seal(ctx({ scope: 'user:race', objectId: `o${i}` }), `v${i}`),
      ),
    );
    expect(new Set(sealed.map((s) => parseSealed(s).keyId)).size).toBe(1);
    expect(await f.store.dataKeys.listScope('t1', 'user:race')).toHaveLength(1);
    const other = await f.cipher.seal(ctx({ scope: 'user:someone-else' }), 'x');
    expect(parseSealed(other).keyId).not.toBe(parseSealed(sealed[0] ?? '').keyId);
  });

  it('refuses malformed scopes', async () => {
    await expect(f.cipher.seal(ctx({ scope: 'bad scope with spaces' }), 'x')).rejects.toMatchObject({
      code: 'invalid_request',
    });
  });
});
