import { expect, it } from 'vitest';
import { EnclaveError } from '../../src/errors/index.js';
import type { ApiKeyRecord } from '../../src/store/repos/api-key-repo.js';
import { describeStore, uniqueId } from '../support/stores.js';

const key = (tenantId: string, over: Partial<ApiKeyRecord> = {}): ApiKeyRecord => ({
  id: uniqueId('key'),
  tenantId,
  name: uniqueId('name'),
  role: 'user',
  clearance: 'UNCLASSIFIED',
  authorizations: ['A', 'B'],
  keyHash: uniqueId('hash'),
  createdAt: 1_700_000_000_000,
  expiresAt: null,
  revokedAt: null,
  ...over,
});

describeStore('store contract: tenants, labels, api keys', (store) => {
  it('ensures tenants idempotently', async () => {
    const t = uniqueId('t');
    expect(await store().tenants.exists(t)).toBe(false);
    await store().tenants.ensure(t);
    await store().tenants.ensure(t);
    expect(await store().tenants.exists(t)).toBe(true);
    expect(await store().tenants.list()).toContain(t);
  });

  it('registers labels idempotently with stable ids', async () => {
    const canonical = `SECRET//${uniqueId('X').toUpperCase()}`;
    const [a, b] = await Promise.all([store().labels.ensure(canonical), store().labels.ensure(canonical)]);
    expect(a).toBe(b);
    expect(await store().labels.byId(a)).toEqual({ id: a, canonical });
    expect((await store().labels.list()).map((l) => l.id)).toContain(a);
  });

  it('inserts, finds, lists and revokes api keys', async () => {
    const t = uniqueId('t');
    await store().tenants.ensure(t);
    const record = key(t, { expiresAt: 1_800_000_000_000 });
    await store().apiKeys.insert(record);
    expect(await store().apiKeys.byHash(record.keyHash)).toEqual(record);
    // A key's default label (migration 0012) round-trips; without one the record has none.
    const t2 = uniqueId('t');
    await store().tenants.ensure(t2);
    const withDefault = key(t2, { defaultLabel: 'CONFIDENTIAL' });
    await store().apiKeys.insert(withDefault);
    expect(await store().apiKeys.byId(t2, withDefault.id)).toEqual(withDefault);
    expect(await store().apiKeys.byId(t, record.id)).toEqual(record);
    expect(await store().apiKeys.byId('other-tenant', record.id)).toBeUndefined();
    expect(await store().apiKeys.list(t)).toEqual([record]);
    expect(await store().apiKeys.revoke(t, record.id, 5)).toBe(true);
    expect(await store().apiKeys.revoke(t, record.id, 6)).toBe(false);
    expect((await store().apiKeys.byHash(record.keyHash))?.revokedAt).toBe(5);
  });

  it('maps a unique violation to already_exists', async () => {
    const t = uniqueId('t');
    await store().tenants.ensure(t);
    const record = key(t);
    await store().apiKeys.insert(record);
    const duplicate = store().apiKeys.insert(key(t, { name: record.name }));
    await expect(duplicate).rejects.toBeInstanceOf(EnclaveError);
    await expect(duplicate).rejects.toMatchObject({ code: 'already_exists' });
  });

  it('maps a foreign-key violation to conflict', async () => {
    await expect(store().apiKeys.insert(key(uniqueId('missing')))).rejects.toMatchObject({
      code: 'conflict',
    });
  });

  it('rolls back a failed transaction as a whole', async () => {
    const t = uniqueId('t');
    await expect(
      store().transaction(async (tx) => {
        await tx.tenants.ensure(t);
        await tx.apiKeys.insert(key(uniqueId('missing')));
      }),
    ).rejects.toMatchObject({ code: 'conflict' });
    expect(await store().tenants.exists(t)).toBe(false);
  });

  it('commits a transaction and lets nested calls join it', async () => {
    const t = uniqueId('t');
    await store().transaction(async (tx) => {
      await tx.tenants.ensure(t);
      await tx.transaction(async (inner) => inner.apiKeys.insert(key(t)));
    });
    expect(await store().apiKeys.list(t)).toHaveLength(1);
  });

  it('keeps every write of concurrent writers', async () => {
    const t = uniqueId('t');
    await store().tenants.ensure(t);
    await Promise.all(
      Array.from({ length: 40 }, () => store().transaction(async (tx) => tx.apiKeys.insert(key(t)))),
    );
    expect(await store().apiKeys.list(t)).toHaveLength(40);
  });
});
