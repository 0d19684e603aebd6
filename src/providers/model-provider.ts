/**
 * The one interface every model backend implements (openai-compatible, bedrock, local).
 * The runtime speaks a provider-neutral conversation of items (the Responses API's item vocabulary);
 * each provider maps it to its wire format and maps the answer back to a stream of ModelEvents.
 */

export type ModelItem =
  | { type: 'message'; role: 'system' | 'developer' | 'user' | 'assistant'; text: string }
  | { type: 'function_call'; callId: string; name: string; arguments: string }
  | { type: 'function_call_output'; callId: string; output: string };

export interface FunctionToolSpec {
  name: string;
  description?: string;
  /** JSON Schema of the arguments. */
  parameters: Record<string, unknown>;
  strict?: boolean;
}

export type ToolChoice = 'auto' | 'none' | 'required' | { name: string };

export interface ModelRequest {
  /** Model name as the provider knows it (the part after `provider/`). */
  model: string;
  instructions?: string;
  items: readonly ModelItem[];
  tools?: readonly FunctionToolSpec[];
  toolChoice?: ToolChoice;
  temperature?: number;
  maxOutputTokens?: number;
  signal?: AbortSignal;
}

export interface ModelUsage {
  inputTokens: number;
  outputTokens: number;
}

export type StopReason = 'stop' | 'length' | 'tool_calls' | 'content_filter';

export type ModelEvent =
  | { type: 'text_delta'; text: string }
  | { type: 'function_call'; callId: string; name: string; arguments: string }
  | { type: 'done'; usage: ModelUsage; stopReason: StopReason };

export interface ModelProvider {
  /** Provider name: the `provider` part of `provider/model` ids. */
  readonly name: string;
  /**
   * Streams one model turn. Errors are EnclaveErrors: 'upstream_error' / 'upstream_timeout' / 'rate_limited'
   * carry `retryable` (see provider-error.ts) so fallback tries the next endpoint only on 429/5xx/timeouts.
   * Must honour `request.signal`: once it aborts, stop the upstream request and throw its reason, never end
   * quietly (a cut-off answer must not look finished). The ModelRouter's timeouts rely on this.
   */
  stream(request: ModelRequest): AsyncIterable<ModelEvent>;
}
