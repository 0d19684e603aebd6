import { randomUUID } from 'node:crypto';
import type { ModelEvent, ModelProvider, ModelRequest, ModelUsage, StopReason } from '../model-provider.js';
import { toUpstreamError, type UpstreamContext } from '../provider-error.js';
import { countRequestTokens, countTokens } from '../tokens.js';
import { ChatClient, type ChatChunk, type ToolCallFragment } from './chat-client.js';
import { toChatParams, type MaxTokensField } from './map-request.js';

export interface OpenAIProviderOptions {
  /** Endpoint id (`openai/gpt-4.1-mini`), named in error messages. */
  endpointId: string;
  /** Any OpenAI-compatible server; absent means api.openai.com. */
  baseURL?: string | undefined;
  /** Absent for servers that need none (a local vLLM or Ollama): no Authorization header is sent. */
  apiKey?: string | undefined;
  /** OpenAI's own API wants max_completion_tokens; many compatible servers know only max_tokens. */
  maxTokensField?: MaxTokensField | undefined;
  /** Ask for usage in the stream (stream_options.include_usage); turn off for servers that reject it. */
  includeUsage?: boolean | undefined;
  /** Extra headers for every request (an OpenAI-Organization, a gateway's routing header). */
  headers?: Readonly<Record<string, string>> | undefined;
}

const finishReasons: Readonly<Record<string, StopReason>> = {
  stop: 'stop',
  length: 'length',
  tool_calls: 'tool_calls',
  function_call: 'tool_calls',
  content_filter: 'content_filter',
};

/**
 * Chat Completions with `stream: true` against any OpenAI-compatible server. Text deltas are yielded as
 * each SSE chunk arrives (never buffered); tool-call fragments are assembled and yielded once complete,
 * since a ModelEvent function_call carries whole arguments.
 */
export class OpenAIProvider implements ModelProvider {
  readonly name = 'openai';
  private readonly client: ChatClient;
  private readonly context: UpstreamContext;
  private readonly maxTokensField: MaxTokensField;
  private readonly includeUsage: boolean;

  constructor(options: OpenAIProviderOptions) {
    this.context = { endpoint: options.endpointId, secrets: options.apiKey ? [options.apiKey] : [] };
    // No retries or timeouts in the client: those belong to the ModelRouter, which sees every endpoint.
    this.client = new ChatClient({
      baseURL: options.baseURL,
      apiKey: options.apiKey,
      headers: options.headers,
      context: this.context,
    });
    this.maxTokensField =
      options.maxTokensField ?? (options.baseURL ? 'max_tokens' : 'max_completion_tokens');
    this.includeUsage = options.includeUsage ?? true;
  }

  async *stream(request: ModelRequest): AsyncIterable<ModelEvent> {
    const params = toChatParams(request, {
      maxTokensField: this.maxTokensField,
      includeUsage: this.includeUsage,
    });
    const calls = new Map<number, PendingCall>();
    let stopReason: StopReason | undefined;
    let usage: ModelUsage | undefined;
    let text = '';
    try {
      for await (const chunk of this.client.stream(params, request.signal)) {
        if (chunk.usage) usage = toUsage(chunk.usage) ?? usage;
        const choice = chunk.choices?.[0];
        if (!choice) continue;
        const delta = choice.delta;
        if (delta) {
          const piece = delta.content || delta.refusal;
          if (typeof piece === 'string' && piece) {
            text += piece;
            yield { type: 'text_delta', text: piece };
          }
          if (Array.isArray(delta.tool_calls))
            for (const fragment of delta.tool_calls) addFragment(calls, fragment);
        }
        if (typeof choice.finish_reason === 'string' && choice.finish_reason) {
          stopReason = finishReasons[choice.finish_reason] ?? 'stop';
        }
      }
      // A stream cut off by an abort must not pass for a finished one, however the transport ended it.
      request.signal?.throwIfAborted();
    } catch (error) {
      throw toUpstreamError(error, this.context, request.signal);
    }
    let callTokens = 0;
    for (const [, call] of [...calls].sort(([a], [b]) => a - b)) {
      callTokens += countTokens(call.name) + countTokens(call.arguments);
      // Some servers omit call ids; the client still needs a unique one to send its output back.
      yield {
        type: 'function_call',
        ...call,
        callId: call.callId || `call_${randomUUID().replaceAll('-', '')}`,
      };
    }
    yield {
      type: 'done',
      usage: usage ?? {
        inputTokens: countRequestTokens(request),
        outputTokens: countTokens(text, request.model) + callTokens,
      },
      stopReason: stopReason ?? (calls.size > 0 ? 'tool_calls' : 'stop'),
    };
  }
}

type PendingCall = { callId: string; name: string; arguments: string };

/** Tool calls stream as fragments keyed by index: the first carries id and name, arguments follow. */
function addFragment(calls: Map<number, PendingCall>, fragment: ToolCallFragment): void {
  const index = typeof fragment.index === 'number' ? fragment.index : 0;
  const call = calls.get(index) ?? { callId: '', name: '', arguments: '' };
  if (typeof fragment.id === 'string' && fragment.id) call.callId = fragment.id;
  const fn = fragment.function;
  if (typeof fn?.name === 'string') call.name += fn.name;
  if (typeof fn?.arguments === 'string') call.arguments += fn.arguments;
  calls.set(index, call);
}

function toUsage(usage: NonNullable<ChatChunk['usage']>): ModelUsage | undefined {
  const { prompt_tokens: input, completion_tokens: output } = usage;
  return typeof input === 'number' && typeof output === 'number'
    ? { inputTokens: input, outputTokens: output }
    : undefined;
}
