import { describe, expect, it } from 'vitest';
import { canonicalEntry, leafData, promptSha256, type AuditEntry } from './audit-entry.js';
import { newSigningKey, tempStore } from './audit-test-support.js';
import { createStoreAuditLog } from './store-audit-log.js';

const base: AuditEntry = {
  type: 'model.call',
  time: 1,
  tenant: 't',
  principal: 'key_1',
  label: 'UNCLASSIFIED',
};

describe('audit entries', () => {
  it('are canonical JSON with sorted keys', () => {
    expect(
      canonicalEntry({ ...base, endpoint: 'local/echo', detail: { promptSha256: promptSha256('hi'), b: 1 } }),
    ).toBe(
      `{"detail":{"b":1,"promptSha256":"sha256:${'8f434346648f6b96df89dda901c5176b10a6d83961dd3c1ac88b59b2dc327aa4'}"},` +
        '"endpoint":"local/echo","label":"UNCLASSIFIED","principal":"key_1","tenant":"t","time":1,"type":"model.call"}',
    );
    expect(leafData(3, '{"a":1}')).toBe('{"entry":{"a":1},"index":3}');
  });

  it.each([
    ['an unknown type', { ...base, type: 'auth.maybe' }],
    ['a missing label', { ...base, label: undefined }],
    ['an unknown field', { ...base, prompt: 'hello' }],
    ['prompt text in detail', { ...base, detail: { prompt: 'hello' } }],
    ['a key in detail', { ...base, detail: { apiKey: 'sk-123' } }],
    ['a fractional time', { ...base, time: 1.5 }],
    ['a non-finite number in detail', { ...base, detail: { score: Number.NaN } }],
  ])('refuses %s', (_why, entry) => {
    expect(() => canonicalEntry(entry as AuditEntry)).toThrow(/Invalid audit entry/);
  });

  it('rejects an invalid entry at append time without touching the log', async () => {
    const t = await tempStore();
    const log = createStoreAuditLog({ store: t.store, signingKey: newSigningKey() });
    await expect(log.append({ ...base, detail: { password: 'x' } })).rejects.toMatchObject({
      code: 'invalid_request',
    });
    expect((await log.append(base)).index).toBe(0);
    await log.close();
    await t.cleanup();
  });
});
