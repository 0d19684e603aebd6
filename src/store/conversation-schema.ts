/**
 * Tables of the stateful API (migration 0006). Content columns — the ones the encryption layer wraps — are
 * marked "content"; everything else is routing/lookup data that queries filter on.
 */
export interface ConversationTable {
  id: string;
  tenant_id: string;
  /** Container label: the ceiling of what may be written into the conversation (no write down). */
  label_id: string;
  /** lub of every item written into it; dominated by label_id. Outputs are labelled at least this. */
  high_water_label_id: string;
  /** content: JSON object. */
  metadata: string;
  /** Next free item position; bumped atomically by each append. */
  next_position: number;
  /** Subject (key id / OIDC sub) that created it. */
  principal: string;
  created_at: number;
  updated_at: number;
}

export interface ItemTable {
  id: string;
  tenant_id: string;
  label_id: string;
  conversation_id: string | null;
  /** The response that took it as input or produced it (null for items added via the Conversations API). */
  response_id: string | null;
  /** Order inside its conversation, or inside its response when it has no conversation. */
  position: number;
  type: string;
  role: string | null;
  status: string;
  call_id: string | null;
  /** content: JSON of the type-specific body (content parts, arguments, output, summary). */
  content: string;
  created_at: number;
}

export interface ResponseTable {
  id: string;
  tenant_id: string;
  /** The context label (lub of everything the model saw); its output items carry the same. */
  label_id: string;
  /** queued | in_progress | completed | failed | incomplete | cancelled */
  status: string;
  model: string;
  /** The endpoint (`provider/model`) that answered, after fallback. */
  endpoint: string | null;
  provider: string | null;
  principal: string;
  previous_response_id: string | null;
  conversation_id: string | null;
  /** JSON array: the items this request added. */
  input_item_ids: string;
  /** JSON array: the whole context the model saw (after compaction), in order — the next turn's history. */
  context_item_ids: string;
  /** JSON array: the items the model produced. */
  output_item_ids: string;
  /** JSON: temperature, max_output_tokens, tool_choice, truncation, store, … */
  params: string;
  /** content */
  instructions: string | null;
  /** content: JSON array of tool definitions. */
  tools: string;
  /** content: JSON object. */
  metadata: string;
  /** JSON usage object. */
  usage: string | null;
  /** content: JSON OpenAI error object. */
  error: string | null;
  incomplete_reason: string | null;
  latency_ms: number | null;
  created_at: number;
  completed_at: number | null;
}
