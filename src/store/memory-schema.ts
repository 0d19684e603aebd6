/** Table types of long-term memory (migration 0005-memory); see src/memory for the domain. */
export interface MemorySourceTable {
  id: string;
  tenant_id: string;
  user_id: string;
  agent_id: string;
  conversation_id: string;
  session: string;
  turn_id: string;
  /** Import order within the owner, so neighbours of a turn can be found. */
  seq: number;
  speaker: string;
  text: string;
  label_id: string;
  occurred_at: number;
  created_at: number;
  extracted_at: number | null;
  /** The conversation item this turn was stored as (0009); null for turns imported before. */
  item_id: string | null;
}

export interface MemoryRecordTable {
  id: string;
  tenant_id: string;
  user_id: string;
  agent_id: string;
  kind: string;
  text: string;
  subject: string | null;
  attribute: string | null;
  value: string | null;
  conversation_id: string | null;
  /** JSON array of caller turn ids (provenance as the caller knows it). */
  source_ids: string;
  label_id: string;
  valid_from: number;
  valid_to: number | null;
  recorded_at: number;
  superseded_at: number | null;
  superseded_by: string | null;
  /** Weighted term count, the BM25 document length. */
  doc_len: number;
  /** float32 little-endian vector, or null when no embedder is configured. */
  embedding: Uint8Array | null;
  /** Keyed hash of subject+attribute (0011): finds a fact's current value without reading the sealed columns. */
  fact_key: string | null;
  /** Keyed hash of kind+text (0011): finds an exact duplicate without reading the sealed text. */
  text_key: string | null;
}

export interface MemoryRecordSourceTable {
  tenant_id: string;
  record_id: string;
  source_id: string;
}

export interface MemoryTermTable {
  record_id: string;
  tenant_id: string;
  term: string;
  weight: number;
  /** Copied from the record (0009) so a search never looks the record up per posting. */
  user_id: string;
  agent_id: string;
  label_id: string;
  kind: string;
  /** 1 while the record is current, 0 once superseded. */
  current: number;
  doc_len: number;
}

export interface MemoryQuarantineTable {
  id: string;
  tenant_id: string;
  user_id: string;
  agent_id: string;
  kind: string;
  text: string;
  reason: string;
  source_ids: string;
  label_id: string;
  status: string;
  created_at: number;
  decided_at: number | null;
}

export interface MemoryRetentionTable {
  tenant_id: string;
  max_age_ms: number;
}

export interface MemoryJobTable {
  id: string;
  tenant_id: string;
  user_id: string;
  agent_id: string;
  conversation_id: string;
  status: string;
  attempts: number;
  last_error: string | null;
  run_after: number;
  created_at: number;
}
