import { randomUUID } from 'node:crypto';
import OpenAI, { type ClientOptions } from 'openai';
import type { ChatCompletionChunk } from 'openai/resources/chat/completions';
import type { ModelEvent, ModelProvider, ModelRequest, StopReason } from '../model-provider.js';
import { toUpstreamError, type UpstreamContext } from '../provider-error.js';
import { countRequestTokens, countTokens } from '../tokens.js';
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
  private readonly client: OpenAI;
  private readonly context: UpstreamContext;
  private readonly maxTokensField: MaxTokensField;
  private readonly includeUsage: boolean;

  constructor(options: OpenAIProviderOptions) {
    const clientOptions: ClientOptions = {
      // The SDK insists on a key; with none configured the Authorization header is removed below.
      apiKey: options.apiKey ?? 'none',
      // Retries, timeouts and fallback belong to the ModelRouter, which sees every endpoint.
      maxRetries: 0,
      timeout: 60 * 60 * 1000,
      defaultHeaders: { ...options.headers, ...(options.apiKey ? {} : { Authorization: null }) },
    };
    if (options.baseURL !== undefined) clientOptions.baseURL = options.baseURL;
    this.client = new OpenAI(clientOptions);
    this.context = { endpoint: options.endpointId, secrets: options.apiKey ? [options.apiKey] : [] };
    this.maxTokensField =
      options.maxTokensField ?? (options.baseURL ? 'max_tokens' : 'max_completion_tokens');
    this.includeUsage = options.includeUsage ?? true;
  }

  async *stream(request: ModelRequest): AsyncIterable<ModelEvent> {
    const params = toChatParams(request, {
      maxTokensField: this.maxTokensField,
      includeUsage: this.includeUsage,
    });
    const calls = new Map<number, { callId: string; name: string; arguments: string }>();
    let stopReason: StopReason | undefined;
    let usage: ChatCompletionChunk['usage'];
    let text = '';
    try {
      const stream = await this.client.chat.completions.create(params, { signal: request.signal ?? null });
      for await (const chunk of stream) {
        if (chunk.usage) usage = chunk.usage;
        const choice = chunk.choices[0];
        if (!choice) continue;
        const delta = choice.delta;
        const piece = delta.content ?? delta.refusal;
        if (piece) {
          text += piece;
          yield { type: 'text_delta', text: piece };
        }
        for (const fragment of delta.tool_calls ?? []) {
          const call = calls.get(fragment.index) ?? { callId: '', name: '', arguments: '' };
          if (fragment.id) call.callId = fragment.id;
          if (fragment.function?.name) call.name += fragment.function.name;
          if (fragment.function?.arguments) call.arguments += fragment.function.arguments;
          calls.set(fragment.index, call);
        }
        if (choice.finish_reason) stopReason = finishReasons[choice.finish_reason] ?? 'stop';
      }
      // The SDK ends an aborted stream quietly; a cut-off answer must not pass for a finished one.
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
      usage: usage
        ? { inputTokens: usage.prompt_tokens, outputTokens: usage.completion_tokens }
        : {
            inputTokens: countRequestTokens(request),
            outputTokens: countTokens(text, request.model) + callTokens,
          },
      stopReason: stopReason ?? (calls.size > 0 ? 'tool_calls' : 'stop'),
    };
  }
}
