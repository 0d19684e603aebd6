import {
  BedrockRuntimeClient,
  ConverseCommand,
  ConverseStreamCommand,
  type BedrockRuntimeClientConfig,
  type ContentBlock,
  type ConverseStreamOutput,
  type TokenUsage,
} from '@aws-sdk/client-bedrock-runtime';
import type { ModelEvent, ModelProvider, ModelRequest, StopReason } from '../model-provider.js';
import { UpstreamError, toUpstreamError, type UpstreamContext } from '../provider-error.js';
import { countRequestTokens, countTokens } from '../tokens.js';
import { toConverseInput } from './map-request.js';

export interface BedrockProviderOptions {
  /** Endpoint id (`bedrock/<modelId>`), named in error messages. */
  endpointId: string;
  /** Defaults to AWS_REGION through the SDK's own resolution. */
  region?: string | undefined;
  /** A VPC endpoint or a test server; absent means the regional Bedrock endpoint. */
  endpoint?: string | undefined;
  /** ConverseStream (default) or Converse: some models do not support tool use while streaming. */
  streaming?: boolean | undefined;
  /** Only for tests and unusual set-ups; normally the standard AWS credential chain is used. */
  credentials?: BedrockRuntimeClientConfig['credentials'];
}

const stopReasons: Readonly<Record<string, StopReason>> = {
  end_turn: 'stop',
  stop_sequence: 'stop',
  max_tokens: 'length',
  model_context_window_exceeded: 'length',
  tool_use: 'tool_calls',
  content_filtered: 'content_filter',
  guardrail_intervened: 'content_filter',
};

/** Bedrock through the Converse API (one request shape for every model family on Bedrock). */
export class BedrockProvider implements ModelProvider {
  readonly name = 'bedrock';
  private readonly client: BedrockRuntimeClient;
  private readonly context: UpstreamContext;
  private readonly streaming: boolean;

  constructor(options: BedrockProviderOptions) {
    // maxAttempts 1: retries and fallback belong to the ModelRouter.
    const config: BedrockRuntimeClientConfig = { maxAttempts: 1 };
    if (options.region !== undefined) config.region = options.region;
    if (options.endpoint !== undefined) config.endpoint = options.endpoint;
    if (options.credentials !== undefined) config.credentials = options.credentials;
    this.client = new BedrockRuntimeClient(config);
    this.context = { endpoint: options.endpointId };
    this.streaming = options.streaming ?? true;
  }

  stream(request: ModelRequest): AsyncIterable<ModelEvent> {
    return this.streaming ? this.converseStream(request) : this.converse(request);
  }

  private async *converseStream(request: ModelRequest): AsyncIterable<ModelEvent> {
    const tools = new Map<number, { callId: string; name: string; arguments: string }>();
    let stopReason: StopReason = 'stop';
    let usage: TokenUsage | undefined;
    let text = '';
    let callTokens = 0;
    try {
      const response = await this.client.send(
        new ConverseStreamCommand(toConverseInput(request)),
        sendOptions(request),
      );
      for await (const event of response.stream ?? []) {
        const index = blockIndex(event);
        if (event.contentBlockStart?.start?.toolUse) {
          const { toolUseId, name } = event.contentBlockStart.start.toolUse;
          tools.set(index, { callId: toolUseId ?? '', name: name ?? '', arguments: '' });
        } else if (event.contentBlockDelta?.delta) {
          const delta = event.contentBlockDelta.delta;
          if (delta.text) {
            text += delta.text;
            yield { type: 'text_delta', text: delta.text };
          } else if (delta.toolUse?.input !== undefined) {
            const call = tools.get(index);
            if (call) call.arguments += delta.toolUse.input;
          }
        } else if (event.contentBlockStop) {
          const call = tools.get(index);
          if (call) {
            tools.delete(index);
            callTokens += countTokens(call.name) + countTokens(call.arguments);
            yield { type: 'function_call', ...call, arguments: call.arguments || '{}' };
          }
        } else if (event.messageStop) {
          stopReason = this.stopReason(event.messageStop.stopReason);
        } else if (event.metadata?.usage) {
          usage = event.metadata.usage;
        }
      }
      // An aborted stream may end quietly; a cut-off answer must not pass for a finished one.
      request.signal?.throwIfAborted();
    } catch (error) {
      throw toUpstreamError(error, this.context, request.signal);
    }
    yield { type: 'done', usage: this.usage(usage, request, text, callTokens), stopReason };
  }

  private async *converse(request: ModelRequest): AsyncIterable<ModelEvent> {
    let content: ContentBlock[];
    let stopReason: StopReason;
    let usage: TokenUsage | undefined;
    try {
      const response = await this.client.send(
        new ConverseCommand(toConverseInput(request)),
        sendOptions(request),
      );
      content = response.output?.message?.content ?? [];
      stopReason = this.stopReason(response.stopReason);
      usage = response.usage;
    } catch (error) {
      throw toUpstreamError(error, this.context, request.signal);
    }
    let text = '';
    let callTokens = 0;
    for (const block of content) {
      if (block.text) {
        text += block.text;
        yield { type: 'text_delta', text: block.text };
      } else if (block.toolUse) {
        const args = JSON.stringify(block.toolUse.input ?? {});
        callTokens += countTokens(block.toolUse.name ?? '') + countTokens(args);
        yield {
          type: 'function_call',
          callId: block.toolUse.toolUseId ?? '',
          name: block.toolUse.name ?? '',
          arguments: args,
        };
      }
    }
    yield { type: 'done', usage: this.usage(usage, request, text, callTokens), stopReason };
  }

  private stopReason(reason: string | undefined): StopReason {
    const mapped = stopReasons[reason ?? 'end_turn'];
    if (mapped) return mapped;
    // malformed_model_output / malformed_tool_use: the model failed; another attempt may well succeed.
    throw new UpstreamError('upstream_error', `Model endpoint ${this.context.endpoint} returned ${reason}.`, {
      retryable: true,
    });
  }

  private usage(usage: TokenUsage | undefined, request: ModelRequest, text: string, callTokens: number) {
    if (usage?.inputTokens !== undefined && usage.outputTokens !== undefined) {
      return { inputTokens: usage.inputTokens, outputTokens: usage.outputTokens };
    }
    return { inputTokens: countRequestTokens(request), outputTokens: countTokens(text) + callTokens };
  }
}

const sendOptions = (request: ModelRequest) => (request.signal ? { abortSignal: request.signal } : {});

function blockIndex(event: ConverseStreamOutput): number {
  return (
    event.contentBlockStart?.contentBlockIndex ??
    event.contentBlockDelta?.contentBlockIndex ??
    event.contentBlockStop?.contentBlockIndex ??
    0
  );
}
