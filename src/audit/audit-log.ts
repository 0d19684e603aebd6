import type { Store } from '../store/store.js';
import type { AuditEntry } from './audit-entry.js';
import type { SignedCheckpoint } from './checkpoint.js';

export interface AppendReceipt {
  index: number;
  /** Hex RFC 6962 leaf hash of the entry at `index`. */
  leafHash: string;
}

/**
 * The tamper-evident audit log. `append` resolves once the entry is durably committed; when the log cannot
 * commit it rejects with `audit_unavailable`, and the caller must fail its operation (fail-closed).
 */
export interface AuditLog {
  append(entry: AuditEntry): Promise<AppendReceipt>;
  /**
   * Appends `entries` inside the caller's open transaction `tx` (a view of this log's database), so they commit
   * or roll back with what the caller writes there: a turn and the entries that record it are stored together
   * or not at all. Put it last in the transaction (on PostgreSQL it holds the head's row lock until the commit).
   * Rejects (`audit_unavailable`) when the log cannot take them. Once the transaction has committed, call the
   * returned function: it resolves when the entries survive a power cut, and rejects if they may not.
   */
  appendWithin(tx: Store, entries: readonly AuditEntry[]): Promise<() => Promise<AppendReceipt[]>>;
  /** Signs and stores a checkpoint of the current tree head (on demand; the log also does it periodically). */
  checkpoint(): Promise<SignedCheckpoint>;
  latestCheckpoint(): Promise<SignedCheckpoint | undefined>;
  /** Stops the periodic checkpoints and waits for queued appends and the sink to drain. */
  close(): Promise<void>;
}
