import type { ConversationTable, ItemTable, ResponseTable } from './conversation-schema.js';
import type { DataKeyTable } from './data-key-schema.js';
import type { SafetyReviewTable, SafetyVerdictTable } from './safety-schema.js';
import type { LabelDowngradeTable } from './label-downgrade-schema.js';
import type {
  ApprovalTable,
  ConversationLeaseTable,
  JobTable,
  RunEventTable,
  RunStepTable,
  RunTable,
} from './run-schema.js';
import type {
  MemoryJobTable,
  MemoryQuarantineTable,
  MemoryRecordSourceTable,
  MemoryRecordTable,
  MemoryRetentionTable,
  MemorySourceTable,
  MemoryTermTable,
} from './memory-schema.js';

/**
 * Table types for the query layer. Timestamps are epoch milliseconds (integers on both engines);
 * JSON values are stored as text so one schema fits SQLite and PostgreSQL.
 * Each domain that adds tables adds its interface here and its migration in ./migrations.
 */
export interface TenantTable {
  id: string;
  created_at: number;
}

export interface LabelTable {
  /** Short stable id referenced by every labelled row; visibility is decided per label, not per row. */
  id: string;
  /** Canonical serialization of the label (see src/labels). */
  canonical: string;
  created_at: number;
}

export interface ApiKeyTable {
  id: string;
  tenant_id: string;
  name: string;
  role: string;
  /** Canonical clearance label, set by an admin only. */
  clearance: string;
  /** JSON array of Accumulo-style authorization tokens. */
  authorizations: string;
  /** Canonical label of requests sent without one (migration 0012); null: the clearance. */
  default_label: string | null;
  /** Hex HMAC-SHA-256 of the key under the server secret; the key itself is never stored. */
  key_hash: string;
  created_at: number;
  expires_at: number | null;
  revoked_at: number | null;
}

/** One leaf of the audit Merkle tree; `entry` is canonical JSON (src/audit). */
export interface AuditEntryTable {
  index: number;
  leaf_hash: string;
  entry: string;
  created_at: number;
}

export interface AuditCheckpointTable {
  tree_size: number;
  root_hash: string;
  time: number;
  key_id: string;
  signature: string;
}

/** One row (id 1): the audit tree size and Merkle frontier, locked by every append. */
export interface AuditHeadTable {
  id: number;
  tree_size: number;
  frontier: string;
}

export interface Database {
  tenants: TenantTable;
  audit_entries: AuditEntryTable;
  audit_checkpoints: AuditCheckpointTable;
  audit_head: AuditHeadTable;
  labels: LabelTable;
  api_keys: ApiKeyTable;
  data_keys: DataKeyTable;
  memory_sources: MemorySourceTable;
  memory_records: MemoryRecordTable;
  memory_record_sources: MemoryRecordSourceTable;
  memory_terms: MemoryTermTable;
  memory_quarantine: MemoryQuarantineTable;
  memory_retention: MemoryRetentionTable;
  memory_jobs: MemoryJobTable;
  conversations: ConversationTable;
  items: ItemTable;
  responses: ResponseTable;
  jobs: JobTable;
  runs: RunTable;
  run_steps: RunStepTable;
  run_events: RunEventTable;
  approvals: ApprovalTable;
  conversation_leases: ConversationLeaseTable;
  safety_verdicts: SafetyVerdictTable;
  safety_reviews: SafetyReviewTable;
  label_downgrades: LabelDowngradeTable;
}
