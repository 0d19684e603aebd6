import type { ResponseStatus } from '../store/repos/response-repo.js';

/** Request parameters echoed back on the response object (and stored as `params`). */
export interface ResponseParams {
  temperature: number | null;
  max_output_tokens: number | null;
  /** OpenAI's wire form: 'auto' | 'none' | 'required' | { type: 'function', name }. */
  tool_choice: unknown;
  truncation: 'auto' | 'disabled';
  store: boolean;
  parallel_tool_calls: boolean;
  top_p: number | null;
  context_management: { type: string; compact_threshold?: number | null | undefined }[] | null;
}

export interface Usage {
  input_tokens: number;
  output_tokens: number;
  total_tokens: number;
}

export interface ResponseView {
  id: string;
  createdAt: number;
  status: ResponseStatus;
  model: string;
  instructions: string | null;
  previousResponseId: string | null;
  conversationId: string | null;
  params: ResponseParams;
  /** Tool definitions in OpenAI's wire form. */
  tools: unknown[];
  metadata: Record<string, string>;
  usage: Usage | null;
  error: { code: string; message: string } | null;
  incompleteReason: string | null;
  output: Record<string, unknown>[];
  /** Banner of the response's label. */
  label: string;
}

/** OpenAI's Response object (plus Enclave's `label`), from a live turn or a stored record. */
export function renderResponse(v: ResponseView): Record<string, unknown> {
  return {
    id: v.id,
    object: 'response',
    created_at: Math.floor(v.createdAt / 1000),
    status: v.status,
    background: false,
    error: v.error,
    incomplete_details: v.incompleteReason ? { reason: v.incompleteReason } : null,
    instructions: v.instructions,
    max_output_tokens: v.params.max_output_tokens,
    model: v.model,
    output: v.output,
    parallel_tool_calls: v.params.parallel_tool_calls,
    previous_response_id: v.previousResponseId,
    conversation: v.conversationId ? { id: v.conversationId } : null,
    reasoning: { effort: null, summary: null },
    store: v.params.store,
    temperature: v.params.temperature,
    text: { format: { type: 'text' } },
    tool_choice: v.params.tool_choice,
    tools: v.tools,
    top_p: v.params.top_p,
    truncation: v.params.truncation,
    context_management: v.params.context_management,
    usage: v.usage && {
      input_tokens: v.usage.input_tokens,
      input_tokens_details: { cached_tokens: 0 },
      output_tokens: v.usage.output_tokens,
      output_tokens_details: { reasoning_tokens: 0 },
      total_tokens: v.usage.total_tokens,
    },
    metadata: v.metadata,
    label: v.label,
  };
}
