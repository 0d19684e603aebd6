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
  /** Signs and stores a checkpoint of the current tree head (on demand; the log also does it periodically). */
  checkpoint(): Promise<SignedCheckpoint>;
  latestCheckpoint(): Promise<SignedCheckpoint | undefined>;
  /** Stops the periodic checkpoints and waits for queued appends and the sink to drain. */
  close(): Promise<void>;
}
