import { afterEach, describe, expect, it } from 'vitest';
import { newSigningKey, sampleEntry, sampleVerdictRow, tempStore } from '../audit/audit-test-support.js';
import { createStoreAuditLog } from '../audit/store-audit-log.js';
import type { AuditLog } from '../audit/index.js';
import { EnclaveError } from '../errors/index.js';
import { verdictRecord, type Verdict } from '../safety/index.js';
import type { Store } from '../store/store.js';
import { PendingAudit } from './pending-audit.js';

const failing = () => Promise.reject(new EnclaveError('audit_unavailable', 'The audit log cannot commit.'));

const verdict: Verdict = {
  action: 'allow',
  flagged: false,
  score: 0.01,
  categories: [],
  policyVersion: 'p1',
  modelVersion: 'm1',
};

/** A verdict's rows, as the safety gate holds them with its entry. */
const verdictRows = () =>
  verdictRecord({ tenantId: 'acme', surface: 'input', text: 'hello', verdict, subject: 'resp_1' });

describe('PendingAudit', () => {
  let cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.reverse()) await c();
    cleanups = [];
  });

  /** A SQLite store with the real store-backed log; `fsync` stands in for the WAL fsync (durable log). */
  async function setup(fsync?: () => Promise<void>): Promise<{ store: Store; log: AuditLog }> {
    const t = await tempStore();
    const log = createStoreAuditLog({
      store: t.store,
      signingKey: newSigningKey(),
      ...(fsync ? { fsync } : {}),
    });
    cleanups.push(t.cleanup, () => log.close());
    return { store: t.store, log };
  }
  const entries = async (store: Store) => (await store.audit.entries(0, 100)).map((r) => JSON.parse(r.entry));
  /** How many of these verdict rows are stored. */
  const stored = async (store: Store, ...ids: string[]) =>
    (await Promise.all(ids.map((id) => store.safety.verdictById('acme', id)))).filter(Boolean).length;

  it('commits held entries, their rows and the work in one transaction, and settles once durable', async () => {
    let release: () => void = () => undefined;
    const disk = new Promise<void>((resolve) => (release = resolve));
    let fsyncs = 0;
    const { store, log } = await setup(async () => {
      fsyncs++;
      await disk;
    });
    const pending = new PendingAudit(log, store);
    const rows = verdictRows();
    pending.hold(sampleEntry(1), (tx) => rows.write(tx.safety));
    pending.hold(sampleEntry(2));
    const result = await pending.commitWith(async (tx) => {
      await tx.safety.insertVerdict(sampleVerdictRow('sv_work'));
      return 'stored';
    });
    expect(result).toBe('stored');
    // Committed together: both entries and both verdict rows.
    expect((await entries(store)).map((e) => e.principal)).toEqual(['key_1', 'key_2']);
    expect(await stored(store, rows.verdictId, 'sv_work')).toBe(2);
    // Not yet durable: settle waits for the WAL fsync that started after the commit.
    let settled = false;
    const settling = pending.settle().then(() => (settled = true));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(settled).toBe(false);
    expect(fsyncs).toBeGreaterThan(0);
    release();
    await settling;
    expect(settled).toBe(true);
  });

  it('writes nothing of a failed transaction and keeps its entries held for the next commit', async () => {
    const { store, log } = await setup();
    const pending = new PendingAudit(log, store);
    const rows = verdictRows();
    pending.hold(sampleEntry(1), (tx) => rows.write(tx.safety));
    await expect(
      pending.commitWith(async (tx) => {
        await tx.safety.insertVerdict(sampleVerdictRow('sv_work'));
        throw new EnclaveError('not_found', 'No conversation found.');
      }),
    ).rejects.toMatchObject({ code: 'not_found' });
    expect(await entries(store)).toHaveLength(0);
    expect(await stored(store, rows.verdictId, 'sv_work')).toBe(0);
    // The refusal is still recorded: settle commits the held entry and its row on their own.
    await pending.settle();
    expect((await entries(store)).map((e) => e.principal)).toEqual(['key_1']);
    expect(await stored(store, rows.verdictId, 'sv_work')).toBe(1);
    await expect(pending.settle()).resolves.toBeUndefined();
  });

  it('rolls the work back when the log cannot take the entries (fail-closed)', async () => {
    const { store, log } = await setup();
    const pending = new PendingAudit(log, store);
    pending.hold(sampleEntry(1));
    await log.close();
    await expect(
      pending.commitWith(async (tx) => {
        await tx.safety.insertVerdict(sampleVerdictRow('sv_work'));
      }),
    ).rejects.toMatchObject({ code: 'audit_unavailable' });
    expect(await stored(store, 'sv_work')).toBe(0);
    expect(await entries(store)).toHaveLength(0);
  });

  it('fails settle when the fsync after the commit fails', async () => {
    const { store, log } = await setup(async () => {
      throw new Error('EIO: i/o error, fsync');
    });
    const pending = new PendingAudit(log, store);
    pending.hold(sampleEntry(1));
    await pending.commit();
    await expect(pending.settle()).rejects.toMatchObject({ code: 'audit_unavailable' });
    // The log stopped: the next turn cannot record anything.
    const next = new PendingAudit(log, store);
    next.hold(sampleEntry(2));
    await expect(next.settle()).rejects.toMatchObject({ code: 'audit_unavailable' });
  });

  it('rejects at settle when an issued append failed, never as an unhandled rejection', async () => {
    const { store, log } = await setup();
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const pending = new PendingAudit(log, store);
      pending.add(failing());
      pending.add(Promise.resolve());
      await new Promise((resolve) => setTimeout(resolve, 10));
      await expect(pending.settle()).rejects.toMatchObject({ code: 'audit_unavailable' });
      // A failure is reported once: what was settled is not settled again.
      await expect(pending.settle()).resolves.toBeUndefined();
      new PendingAudit(log, store).add(failing());
      await new Promise((resolve) => setTimeout(resolve, 10));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('lets a failed append win over the refusal it would have recorded', async () => {
    const { store, log } = await setup();
    const pending = new PendingAudit(log, store);
    pending.add(failing());
    await expect(pending.settleThenThrow(new EnclaveError('label_denied', 'no'))).rejects.toMatchObject({
      code: 'audit_unavailable',
    });
    pending.hold(sampleEntry(1));
    await expect(pending.settleThenThrow(new EnclaveError('label_denied', 'no'))).rejects.toMatchObject({
      code: 'label_denied',
    });
    expect(await entries(store)).toHaveLength(1);
  });
});
