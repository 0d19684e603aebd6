import { expect, it } from 'vitest';
import type { DataKeyRecord } from '../../src/store/repos/data-key-repo.js';
import { describeStore, uniqueId } from '../support/stores.js';

const record = (tenantId: string, over: Partial<DataKeyRecord> = {}): DataKeyRecord => ({
  id: uniqueId('dk'),
  tenantId,
  scope: 'user:u1',
  generation: 1,
  kekVersion: 1,
  provider: 'local',
  wrapped: 'd3JhcHBlZA',
  createdAt: 1_700_000_000_000,
  rewrappedAt: null,
  ...over,
});

describeStore('store contract: data keys', (store) => {
  it('inserts and reads back a wrapped key, only within its tenant', async () => {
    const t = uniqueId('t');
    const r = record(t);
    expect(await store().dataKeys.insertOrGet(r)).toEqual(r);
    expect(await store().dataKeys.byId(t, r.id)).toEqual(r);
    expect(await store().dataKeys.byId(uniqueId('other'), r.id)).toBeUndefined();
    expect(await store().dataKeys.forGeneration(t, 'user:u1', 1)).toEqual(r);
    expect(await store().dataKeys.forGeneration(t, 'user:u1', 2)).toBeUndefined();
  });

  it('keeps one key per tenant, scope and generation: the first concurrent writer wins for all', async () => {
    const t = uniqueId('t');
    const candidates = Array.from({ length: 12 }, () => record(t, { scope: 'conversation:c' }));
    const stored = await Promise.all(candidates.map((c) => store().dataKeys.insertOrGet(c)));
    expect(new Set(stored.map((s) => s.id)).size).toBe(1);
    expect(await store().dataKeys.listScope(t, 'conversation:c')).toHaveLength(1);
    const next = await store().dataKeys.insertOrGet(
      record(t, { scope: 'conversation:c', generation: 2, kekVersion: 2 }),
    );
    expect((await store().dataKeys.listScope(t, 'conversation:c')).map((k) => k.id)).toEqual([
      stored[0]?.id,
      next.id,
    ]);
  });

  it('pages keys wrapped below a version and rewraps each only once', async () => {
    const t = uniqueId('t');
    const old = await Promise.all(
      [1, 2, 3].map((i) => store().dataKeys.insertOrGet(record(t, { scope: `s${i}`, kekVersion: 1000 }))),
    );
    await store().dataKeys.insertOrGet(record(t, { scope: 's9', kekVersion: 1001 }));
    expect(await store().dataKeys.countWrappedBelow(1001)).toBeGreaterThanOrEqual(3);
    const mine = async () =>
      (await store().dataKeys.listWrappedBelow(1001, 10_000)).filter((k) => k.tenantId === t);
    expect((await mine()).map((k) => k.id).sort()).toEqual(old.map((k) => k.id).sort());
    const first = await store().dataKeys.listWrappedBelow(1001, 1);
    const second = await store().dataKeys.listWrappedBelow(1001, 1, first[0]?.id);
    expect((second[0]?.id ?? '') > (first[0]?.id ?? '')).toBe(true);
    const target = old[0] as DataKeyRecord;
    expect(await store().dataKeys.rewrap(target.id, 1000, 'bmV3', 1001, 42)).toBe(true);
    expect(await store().dataKeys.rewrap(target.id, 1000, 'b3RoZXI', 1001, 43)).toBe(false);
    expect(await store().dataKeys.byId(t, target.id)).toMatchObject({
      wrapped: 'bmV3',
      kekVersion: 1001,
      generation: 1,
      rewrappedAt: 42,
    });
    expect(await mine()).toHaveLength(2);
  });

  it('destroys exactly the given keys of the tenant', async () => {
    const t = uniqueId('t');
    const a = await store().dataKeys.insertOrGet(record(t, { scope: 'user:gone' }));
    const b = await store().dataKeys.insertOrGet(record(t, { scope: 'user:gone', generation: 2 }));
    const c = await store().dataKeys.insertOrGet(record(t, { scope: 'user:kept' }));
    expect(await store().dataKeys.destroy(uniqueId('other'), [a.id])).toBe(0);
    expect(await store().dataKeys.destroy(t, [a.id, b.id])).toBe(2);
    expect(await store().dataKeys.destroy(t, [])).toBe(0);
    expect(await store().dataKeys.listScope(t, 'user:gone')).toEqual([]);
    expect(await store().dataKeys.byId(t, c.id)).toEqual(c);
  });
});
