import type { FileHandle } from 'node:fs/promises';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { AuditEntryRow } from '../store/repos/audit-repo.js';
import type { Store } from '../store/store.js';
import { newSigningKey, sampleEntry, tempStore } from './audit-test-support.js';
import type { AppendReceipt } from './audit-log.js';
import { createStoreAuditLog } from './store-audit-log.js';
import { verifyLog } from './verify-log.js';

type Event =
  | { kind: 'commit'; first: number; last: number }
  | { kind: 'fsync-start' | 'fsync-end'; id: number }
  | { kind: 'resolved'; index: number };

/**
 * A store whose transactions record their commits, and an fsync hook that records WAL fsyncs and holds each
 * one until the test releases it (directory fsyncs pass through), so the order of commits, fsyncs and resolved
 * appends is the test's to choose and check.
 */
function recorder(store: Store) {
  const events: Event[] = [];
  const gates = new Map<number, { release: () => void; fail: (error: Error) => void }>();
  let fsyncs = 0;
  const recording: Store = {
    ...store,
    transaction: async (fn, options) => {
      const rows = (await store.transaction(fn, options)) as unknown as AuditEntryRow[];
      events.push({ kind: 'commit', first: rows[0]?.index ?? -1, last: rows.at(-1)?.index ?? -1 });
      return rows as never;
    },
  };
  const fsync = async (handle: FileHandle) => {
    if ((await handle.stat()).isDirectory()) return handle.sync();
    const id = ++fsyncs;
    events.push({ kind: 'fsync-start', id });
    await new Promise<void>((release, fail) => gates.set(id, { release, fail }));
    await handle.sync();
    events.push({ kind: 'fsync-end', id });
  };
  const gate = async (id: number) => {
    await vi.waitFor(() => expect(gates.has(id)).toBe(true));
    return gates.get(id) as { release: () => void; fail: (error: Error) => void };
  };
  const track = (appends: Promise<AppendReceipt>[]) =>
    appends.map((p) => p.then((r) => (events.push({ kind: 'resolved', index: r.index }), r)));
  return { events, recording, fsync, gate, track };
}

/** Every resolved append came after the end of a WAL fsync that started after its batch's commit. */
function expectEachResolvedAfterCoveringFsync(events: readonly Event[]): void {
  events.forEach((e, at) => {
    if (e.kind !== 'resolved') return;
    const committed = events.findIndex((c) => c.kind === 'commit' && c.first <= e.index && e.index <= c.last);
    expect(committed).toBeGreaterThanOrEqual(0);
    const covering = events.some((s, start) => {
      if (s.kind !== 'fsync-start' || start < committed) return false;
      const end = events.findIndex((f) => f.kind === 'fsync-end' && f.id === s.id);
      return end >= 0 && end < at;
    });
    expect(covering, `append ${e.index} resolved before an fsync covering its commit`).toBe(true);
  });
}

const macrotasks = async (n: number) => {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
};

describe('durable appends on SQLite: commit, then fsync the WAL off the main thread', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0)) await c();
  });

  it('resolves an append only after an fsync that started after its commit, in order, while later batches commit', async () => {
    const t = await tempStore();
    cleanups.push(t.cleanup);
    const key = newSigningKey();
    const r = recorder(t.store);
    const log = createStoreAuditLog({ store: r.recording, signingKey: key, fsync: r.fsync });
    const a = r.track(Array.from({ length: 10 }, (_, i) => log.append(sampleEntry(i))));
    const first = await r.gate(1);
    const b = r.track(Array.from({ length: 10 }, (_, i) => log.append(sampleEntry(10 + i))));
    const second = await r.gate(2);
    const c = r.track(Array.from({ length: 5 }, (_, i) => log.append(sampleEntry(20 + i))));
    await vi.waitFor(() => expect(r.events.filter((e) => e.kind === 'commit')).toHaveLength(3));
    // Three batches committed while the first fsync is still held, and none of them is acknowledged.
    expect(r.events.some((e) => e.kind === 'resolved')).toBe(false);
    // Both fsync slots are busy: the third batch waits for the next fsync instead of starting one.
    expect(r.events.filter((e) => e.kind === 'fsync-start')).toHaveLength(2);

    second.release();
    await vi.waitFor(() => expect(r.events).toContainEqual({ kind: 'fsync-start', id: 3 }));
    await macrotasks(5);
    // The second fsync ended first, but batch B resolves only behind batch A (rounds settle in order).
    expect(r.events.some((e) => e.kind === 'resolved')).toBe(false);

    first.release();
    await Promise.all([...a, ...b]);
    await macrotasks(5);
    expect(r.events.filter((e) => e.kind === 'resolved')).toHaveLength(20);
    (await r.gate(3)).release();
    await Promise.all(c);

    const resolved = r.events.flatMap((e) => (e.kind === 'resolved' ? [e.index] : []));
    expect(resolved).toEqual(Array.from({ length: 25 }, (_, i) => i));
    expectEachResolvedAfterCoveringFsync(r.events);
    await log.close();
    expect(await verifyLog(t.store.audit, [key.publicKey])).toMatchObject({ ok: true, entries: 25 });
  });

  it('fails closed on an fsync error: the batch and every batch behind it reject, and so does every later append until reopened', async () => {
    const t = await tempStore();
    cleanups.push(t.cleanup);
    const key = newSigningKey();
    const r = recorder(t.store);
    const log = createStoreAuditLog({ store: r.recording, signingKey: key, fsync: r.fsync });
    const a = Array.from({ length: 6 }, (_, i) => log.append(sampleEntry(i)));
    const first = await r.gate(1);
    const b = Array.from({ length: 6 }, (_, i) => log.append(sampleEntry(6 + i)));
    const second = await r.gate(2);
    first.fail(Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' }));
    // The later fsync reports success, as Linux may after a failed writeback; its batch still fails.
    second.release();
    const results = await Promise.allSettled([...a, ...b]);
    for (const result of results) {
      expect(result.status).toBe('rejected');
      expect((result as PromiseRejectedResult).reason).toMatchObject({ code: 'audit_unavailable' });
    }
    await expect(log.append(sampleEntry(99))).rejects.toMatchObject({ code: 'audit_unavailable' });
    await log.close();

    // Reopened, the log appends again. The refused batches were committed before their fsync failed, so their
    // entries may be in the log (docs/audit.md): it can record an operation that was refused, never miss one.
    const reopened = createStoreAuditLog({ store: t.store, signingKey: key });
    const receipt = await reopened.append(sampleEntry(100));
    expect(receipt.index).toBe(12);
    await reopened.close();
    expect((await verifyLog(t.store.audit, [key.publicKey])).ok).toBe(true);
  });

  it('signs a checkpoint only over entries whose fsync has finished', async () => {
    const t = await tempStore();
    cleanups.push(t.cleanup);
    const key = newSigningKey();
    const r = recorder(t.store);
    const log = createStoreAuditLog({ store: r.recording, signingKey: key, fsync: r.fsync });
    const appends = Array.from({ length: 4 }, (_, i) => log.append(sampleEntry(i)));
    const first = await r.gate(1);
    let signed = false;
    const checkpoint = log.checkpoint().then((c) => ((signed = true), c));
    const second = await r.gate(2);
    await macrotasks(5);
    expect(signed).toBe(false);
    first.release();
    second.release();
    await Promise.all(appends);
    expect((await checkpoint).treeSize).toBe(4);
    await log.close();
  });

  it('does not fsync when appends need not survive a power cut (durable: false)', async () => {
    const t = await tempStore();
    cleanups.push(t.cleanup);
    const fsync = vi.fn(async (handle: FileHandle) => handle.sync());
    const log = createStoreAuditLog({ store: t.store, signingKey: newSigningKey(), durable: false, fsync });
    await Promise.all(Array.from({ length: 5 }, (_, i) => log.append(sampleEntry(i))));
    await log.close();
    expect(fsync).not.toHaveBeenCalled();
  });
});
