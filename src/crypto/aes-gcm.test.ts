import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { gcmOpen, gcmSeal, IV_BYTES, TAG_BYTES } from './aes-gcm.js';
import { canonicalAad, canonicalJson, type ContentAad } from './canonical-aad.js';

const aad: ContentAad = {
  version: 1,
  tenant: 't',
  objectId: 'o',
  kind: 'message',
  label: 'L',
  keyId: 'dk_1',
  keyVersion: 1,
};

describe('AES-256-GCM with canonical AAD', () => {
  it('lays out iv ‖ ciphertext ‖ tag', () => {
    const box = gcmSeal(randomBytes(32), Buffer.from('hello'), canonicalAad(aad));
    expect(box.length).toBe(IV_BYTES + 5 + TAG_BYTES);
  });

  it('writes the content AAD as the canonical JSON of its fields', () => {
    const odd: ContentAad = { ...aad, tenant: 't"\\\u0000ü🛰', label: 'a,b:{c}', keyVersion: 7, version: 3 };
    for (const value of [aad, odd])
      expect(canonicalAad(value).equals(canonicalJson({ ...value }))).toBe(true);
    expect(() => canonicalAad({ ...aad, keyVersion: 1.5 })).toThrow(RangeError);
  });

  it('fails when any single AAD field changes, the format version included', () => {
    const key = randomBytes(32);
    const box = gcmSeal(key, Buffer.from('payload'), canonicalAad(aad));
    expect(gcmOpen(key, box, canonicalAad(aad))?.toString()).toBe('payload');
    const changes: Partial<ContentAad>[] = [
      { version: 2 },
      { tenant: 't2' },
      { objectId: 'o2' },
      { kind: 'memory' },
      { label: 'L2' },
      { keyId: 'dk_2' },
      { keyVersion: 2 },
    ];
    for (const change of changes)
      expect(gcmOpen(key, box, canonicalAad({ ...aad, ...change }))).toBeUndefined();
    expect(gcmOpen(randomBytes(32), box, canonicalAad(aad))).toBeUndefined();
  });

  it('flipping any bit of the box fails', () => {
    const key = randomBytes(32);
    const box = gcmSeal(key, Buffer.from('0123456789'), canonicalAad(aad));
    for (let bit = 0; bit < box.length * 8; bit += 7) {
      const bad = Buffer.from(box);
      bad[bit >> 3] = (bad[bit >> 3] ?? 0) ^ (1 << (bit & 7));
      expect(gcmOpen(key, bad, canonicalAad(aad))).toBeUndefined();
    }
  });

  it('encodes AAD canonically: sorted keys, unambiguous strings', () => {
    expect(canonicalJson({ b: 1, a: 'x' }).toString()).toBe('{"a":"x","b":1}');
    // A separator inside a value cannot imitate another field.
    expect(canonicalJson({ a: 'x","b":"y' })).not.toEqual(canonicalJson({ a: 'x', b: 'y' }));
    expect(() => canonicalJson({ a: 1.5 })).toThrow();
  });
});
