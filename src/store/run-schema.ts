/** Table types of durable runs (migration 0007-runs); see src/runs and docs/runs.md. */
export interface JobTable {
  id: string;
  kind: string;
  /** JSON. */
  payload: string;
  /** queued | running | done | failed */
  status: string;
  /** Number of claims so far; the current value is the lease's fencing token. */
  attempts: number;
  max_attempts: number;
  run_after: number;
  lease_owner: string | null;
  lease_expires_at: number | null;
  /** Last heartbeat (epoch ms) of the lease owner. */
  heartbeat: number | null;
  last_error: string | null;
  created_at: number;
  updated_at: number;
}

export interface RunTable {
  /** The response id the run produces. */
  id: string;
  tenant_id: string;
  /** Which handler executes it (e.g. `response`). */
  kind: string;
  /** The run's label (migration 0013): the turn's label, raised with its high-water mark; null only on legacy rows. */
  label_id: string | null;
  /** queued | in_progress | requires_action | completed | failed | incomplete | cancelled */
  status: string;
  conversation_id: string | null;
  /** content: JSON input of the handler. */
  input: string;
  /** content: JSON result of the handler. */
  output: string | null;
  /** JSON OpenAI-shaped error. */
  error: string | null;
  cancel_requested_at: number | null;
  next_event_seq: number;
  created_at: number;
  updated_at: number;
  completed_at: number | null;
}

export interface RunStepTable {
  run_id: string;
  step_index: number;
  /** model_call | tool_call | approval_wait | safety_verdict */
  kind: string;
  name: string;
  /** started | completed | failed */
  status: string;
  idempotency_key: string;
  /** How many times the step was started (more than one only after a crash mid-step). */
  attempts: number;
  /** The run's label when the step began (migration 0013). */
  label_id: string | null;
  /** content: JSON. */
  input: string | null;
  /** content: JSON. */
  output: string | null;
  error: string | null;
  started_at: number;
  completed_at: number | null;
}

export interface RunEventTable {
  run_id: string;
  seq: number;
  type: string;
  /** The run's label when the event was recorded (migration 0013). */
  label_id: string | null;
  /** content: JSON of the SSE event. */
  data: string;
  created_at: number;
}

export interface ApprovalTable {
  id: string;
  tenant_id: string;
  run_id: string;
  step_index: number;
  source: string;
  /** The run's label when the approval was requested (migration 0013). */
  label_id: string | null;
  server_label: string | null;
  tool_name: string;
  arguments: string;
  reason: string | null;
  /** pending | approved | rejected */
  status: string;
  requested_by: string;
  decided_by: string | null;
  decided_role: string | null;
  decision_reason: string | null;
  created_at: number;
  decided_at: number | null;
}

export interface ConversationLeaseTable {
  conversation_id: string;
  holder: string | null;
  token: number;
  expires_at: number;
}
