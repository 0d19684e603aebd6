import { describe, expect, it } from 'vitest';
import { EnclaveError } from '../errors/index.js';
import { appendVia, PendingAudit } from './pending-audit.js';

const failing = () => Promise.reject(new EnclaveError('audit_unavailable', 'The audit log cannot commit.'));

describe('PendingAudit', () => {
  it('settles once every issued append has committed', async () => {
    const pending = new PendingAudit();
    const done: number[] = [];
    pending.add(new Promise((resolve) => setTimeout(resolve, 5)).then(() => done.push(1)));
    pending.add(Promise.resolve().then(() => done.push(2)));
    await pending.settle();
    expect(done.sort()).toEqual([1, 2]);
    await expect(pending.settle()).resolves.toBeUndefined();
  });

  it('rejects at settle when an append failed, and never leaves the rejection unhandled', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const pending = new PendingAudit();
      pending.add(failing());
      pending.add(Promise.resolve());
      await new Promise((resolve) => setTimeout(resolve, 10));
      await expect(pending.settle()).rejects.toMatchObject({ code: 'audit_unavailable' });
      // A failure is reported once: what was settled is not settled again.
      await expect(pending.settle()).resolves.toBeUndefined();
      // Issued and never settled (the turn stopped for another reason): still no unhandled rejection.
      new PendingAudit().add(failing());
      await new Promise((resolve) => setTimeout(resolve, 10));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('lets a failed append win over the refusal it would have recorded', async () => {
    const pending = new PendingAudit();
    pending.add(failing());
    await expect(pending.settleThenThrow(new EnclaveError('label_denied', 'no'))).rejects.toMatchObject({
      code: 'audit_unavailable',
    });
    await expect(pending.settleThenThrow(new EnclaveError('label_denied', 'no'))).rejects.toMatchObject({
      code: 'label_denied',
    });
  });

  it('appendVia awaits right away without a collector, and collects with one', async () => {
    await expect(appendVia(undefined, failing())).rejects.toMatchObject({ code: 'audit_unavailable' });
    const pending = new PendingAudit();
    await expect(appendVia(pending, failing())).resolves.toBeUndefined();
    await expect(pending.settle()).rejects.toMatchObject({ code: 'audit_unavailable' });
  });
});
