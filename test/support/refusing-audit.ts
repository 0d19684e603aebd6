import type { AuditEntry, AuditLog } from '../../src/audit/index.js';
import { EnclaveError } from '../../src/errors/index.js';
import type { Store } from '../../src/store/store.js';

/**
 * Makes `log` refuse (`audit_unavailable`) the entries `refuse` picks while `fn` runs, on both of its write
 * paths: appends of their own and entries committed inside a turn's transaction (which then rolls back whole).
 * With `at: 'durable'` the entries commit but are never made durable (a failed WAL fsync after the commit).
 */
export async function refusingAudit<T>(
  log: AuditLog,
  refuse: (entry: AuditEntry) => boolean,
  fn: () => Promise<T>,
  at: 'commit' | 'durable' = 'commit',
): Promise<T> {
  const patched = log as { append: AuditLog['append']; appendWithin: AuditLog['appendWithin'] };
  const { append, appendWithin } = { append: log.append.bind(log), appendWithin: log.appendWithin.bind(log) };
  const refusal = () => new EnclaveError('audit_unavailable', 'The audit log cannot commit.');
  patched.append = async (entry) => {
    if (refuse(entry)) throw refusal();
    return append(entry);
  };
  patched.appendWithin = async (tx, entries) => {
    if (!entries.some(refuse)) return appendWithin(tx, entries);
    if (at === 'commit') throw refusal();
    await appendWithin(tx, entries);
    return () => Promise.reject(refusal());
  };
  try {
    return await fn();
  } finally {
    patched.append = append;
    patched.appendWithin = appendWithin;
  }
}

/** An audit entry as the API tests read it back. */
export interface LoggedEntry {
  type: string;
  rule?: string;
  objectId?: string;
  detail?: { action?: string; surface?: string; status?: string; requestId?: string };
}

/** Every entry of `store`'s audit log, in index order. */
export async function loggedEntries(store: Store): Promise<LoggedEntry[]> {
  const head = await store.audit.head();
  const rows = await store.audit.entries(0, head.treeSize);
  return rows.map((r) => JSON.parse(r.entry) as LoggedEntry);
}

/** An entry's detail, for the refusal pickers. */
export const detailOf = (entry: AuditEntry) => (entry.detail ?? {}) as NonNullable<LoggedEntry['detail']>;
