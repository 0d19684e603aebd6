import { describe, expect, it } from 'vitest';
import type { AuditEntry } from '../audit/index.js';
import { EnclaveError } from '../errors/index.js';
import { AuthEntry } from './auth-entry.js';

const entry: AuditEntry = {
  type: 'auth.ok',
  time: 1_700_000_000_000,
  tenant: 'acme',
  principal: 'key_1',
  decision: 'allow',
  rule: 'auth.api_key',
  label: 'UNCLASSIFIED',
};

/** A log that records its appends, or refuses them. */
const logOf = (refuse = false) => {
  const appended: AuditEntry[] = [];
  return {
    appended,
    append: async (e: AuditEntry) => {
      if (refuse) throw new EnclaveError('audit_unavailable', 'The audit log cannot commit.');
      appended.push(e);
      return { index: appended.length - 1, leafHash: '00' };
    },
  };
};

describe('AuthEntry', () => {
  it('is appended once on its own when no turn takes it', async () => {
    const log = logOf();
    const auth = new AuthEntry(log, entry);
    await Promise.all([auth.recorded(), auth.recorded()]);
    await auth.recorded();
    expect(log.appended).toEqual([entry]);
    // Too late to take: it is already in the log, a turn must not record it twice.
    const held: AuditEntry[] = [];
    auth.takeInto((e) => held.push(e));
    expect(held).toEqual([]);
  });

  it('is handed to a turn once and then never appended on its own', async () => {
    const log = logOf();
    const auth = new AuthEntry(log, entry);
    const held: AuditEntry[] = [];
    auth.takeInto((e) => held.push(e));
    auth.takeInto((e) => held.push(e));
    await auth.recorded();
    expect(held).toEqual([entry]);
    expect(log.appended).toEqual([]);
  });

  it('fails closed: recorded() rejects when the append does, every time it is asked', async () => {
    const auth = new AuthEntry(logOf(true), entry);
    await expect(auth.recorded()).rejects.toMatchObject({ code: 'audit_unavailable' });
    await expect(auth.recorded()).rejects.toMatchObject({ code: 'audit_unavailable' });
  });
});
