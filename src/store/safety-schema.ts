/** One safety decision (src/safety): categories as JSON; the text itself is not kept, only its hash. */
export interface SafetyVerdictTable {
  id: string;
  tenant_id: string;
  surface: string;
  /** What was classified (response id, tool call id, memory id), when known. */
  subject: string | null;
  action: string;
  flagged: number;
  score: number;
  categories: string;
  policy_version: string;
  model_version: string;
  text_sha256: string;
  created_at: number;
}

/** A flagged, blocked or escalated item held for a reviewer; decided items feed retraining. */
export interface SafetyReviewTable {
  id: string;
  tenant_id: string;
  verdict_id: string;
  label_id: string | null;
  /** Who sent the text (migration 0008); null for items queued before it. */
  requester: string | null;
  surface: string;
  text: string;
  action: string;
  categories: string;
  status: string;
  decision_categories: string | null;
  reviewer: string | null;
  note: string | null;
  decided_at: number | null;
  created_at: number;
}
