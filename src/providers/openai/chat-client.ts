import type { IncomingHttpHeaders } from 'node:http';
import { Pool } from 'undici';
import {
  UpstreamError,
  parseRetryAfter,
  sanitizeUpstreamMessage,
  upstreamErrorFromStatus,
  upstreamTimeout,
  type UpstreamContext,
} from '../provider-error.js';
import { ChatExchange } from './chat-exchange.js';
import type { SseEvent } from './sse-parser.js';

/**
 * What the provider reads of a chat.completion.chunk. Every field is optional because this is untrusted
 * upstream JSON: the provider checks types where it reads them rather than validating each chunk whole.
 */
export interface ChatChunk {
  choices?: ChatChoice[] | null;
  usage?: { prompt_tokens?: unknown; completion_tokens?: unknown } | null;
}
export interface ChatChoice {
  delta?: {
    content?: unknown;
    refusal?: unknown;
    tool_calls?: ToolCallFragment[] | null;
  } | null;
  finish_reason?: unknown;
}
export interface ToolCallFragment {
  index?: unknown;
  id?: unknown;
  function?: { name?: unknown; arguments?: unknown } | null;
}

export interface ChatClientOptions {
  /** Any OpenAI-compatible server's base URL (`…/v1`); absent means api.openai.com. */
  baseURL?: string | undefined;
  apiKey?: string | undefined;
  headers?: Readonly<Record<string, string>> | undefined;
  context: UpstreamContext;
}

const defaultBaseURL = 'https://api.openai.com/v1';
/** As long as the SDK's timeout was: the ModelRouter's per-endpoint timeouts are the real bound. */
const transportTimeoutMs = 60 * 60 * 1000;
/** An error body is for a message; a huge one is cut rather than held. */
const maxErrorBodyChars = 64 * 1024;
/** A whole non-streamed answer; past this it is cut, fails to parse and so fails the turn cleanly. */
const maxCompletionChars = 32 * 1024 * 1024;
const timeoutCodes = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT']);

/**
 * A lean Chat Completions client: one keep-alive undici Pool per upstream origin, a dispatch handler that
 * parses SSE as bytes arrive (ChatExchange), instead of the SDK's fetch + WHATWG streams + SSE iterator,
 * which cost ~1 ms CPU per streamed call against ~0.2 ms here (bench/provider-openai.ts). Yields each
 * chunk as its SSE event completes; retries, timeouts and fallback stay with the ModelRouter.
 */
export class ChatClient {
  private readonly pool: Pool;
  private readonly path: string;
  private readonly headers: Record<string, string>;
  private readonly context: UpstreamContext;

  constructor(options: ChatClientOptions) {
    const base = (options.baseURL ?? defaultBaseURL).replace(/\/+$/, '');
    const url = new URL(`${base}/chat/completions`);
    this.path = url.pathname + url.search;
    this.pool = new Pool(url.origin, {
      headersTimeout: transportTimeoutMs,
      bodyTimeout: transportTimeoutMs,
    });
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      accept: 'text/event-stream, application/json',
      'user-agent': 'enclave',
    };
    if (options.apiKey) headers.authorization = `Bearer ${options.apiKey}`;
    for (const [name, value] of Object.entries(options.headers ?? {})) headers[name.toLowerCase()] = value;
    // Like the SDK without a key: no Authorization at all, whatever the extra headers said.
    if (!options.apiKey) delete headers.authorization;
    this.headers = headers;
    this.context = options.context;
  }

  /** POSTs one streaming request and yields its chunks. Errors are UpstreamErrors or transport errors. */
  async *stream(body: unknown, signal?: AbortSignal): AsyncGenerator<ChatChunk> {
    signal?.throwIfAborted();
    const exchange = new ChatExchange(this.context, (status) =>
      status >= 200 && status <= 299 ? maxCompletionChars : maxErrorBodyChars,
    );
    const onAbort = () => exchange.abort(abortReason(signal));
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      this.pool.dispatch(
        { path: this.path, method: 'POST', headers: this.headers, body: JSON.stringify(body) },
        exchange,
      );
      while (exchange.status === 0 && !exchange.settled) await exchange.changed();
      if (exchange.whole) {
        while (!exchange.settled) await exchange.changed();
        if (exchange.failure !== undefined) throw exchange.failure;
        if (exchange.status < 200 || exchange.status > 299) {
          throw statusError(exchange.status, exchange.text, exchange.headers, this.context);
        }
        // A server that ignored `stream: true` answered with one chat.completion: replay it as a chunk.
        yield completionAsChunk(parseJson(exchange.text, this.context));
        return;
      }
      let done = false;
      // An abort or transport error wins over events already parsed: nothing is yielded after it.
      for (;;) {
        if (exchange.failure !== undefined) throw exchange.failure;
        if (exchange.pending > 0) {
          for (const event of exchange.take()) {
            const chunk = done ? undefined : this.toChunk(event);
            if (chunk === 'done') done = true;
            else if (chunk) {
              yield chunk;
              if (exchange.failure !== undefined) throw exchange.failure;
            }
          }
        } else if (exchange.ended) {
          return;
        } else {
          await exchange.changed();
        }
      }
    } catch (error) {
      const code = (error as { code?: unknown } | null)?.code;
      if (typeof code === 'string' && timeoutCodes.has(code) && !signal?.aborted) {
        throw upstreamTimeout(this.context, undefined, error);
      }
      throw error;
    } finally {
      signal?.removeEventListener('abort', onAbort);
      // A reader that stops early (or failed on a chunk) must not leave the request running or half-read.
      if (!exchange.settled)
        exchange.abort(new DOMException('The chat request was abandoned.', 'AbortError'));
    }
  }

  private toChunk(event: SseEvent): ChatChunk | 'done' | undefined {
    if (event.data.startsWith('[DONE]')) return 'done';
    const value = parseJson(event.data, this.context);
    const error = (value as { error?: unknown }).error;
    if (event.event === 'error' || error) throw streamError(error ?? value, this.context);
    return value as ChatChunk;
  }
}

function parseJson(text: string, context: UpstreamContext): object {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    value = undefined;
  }
  if (typeof value !== 'object' || value === null) {
    throw new UpstreamError(
      'upstream_error',
      `Model endpoint ${context.endpoint} sent a malformed answer chunk (not a JSON object).`,
      { retryable: true },
    );
  }
  return value;
}

/** An error the upstream reported inside a 200 stream: nothing was rejected, so it may be retried. */
function streamError(error: unknown, context: UpstreamContext): UpstreamError {
  const detail = sanitizeUpstreamMessage(errorText(error) ?? '', context.secrets);
  return new UpstreamError(
    'upstream_error',
    `Model endpoint ${context.endpoint} failed mid-stream${detail ? `: ${detail}` : '.'}`,
    { retryable: true },
  );
}

/** The message the SDK would have built (`429 slow down`), so error texts stay as they were. */
function statusError(
  status: number,
  text: string,
  headers: IncomingHttpHeaders,
  context: UpstreamContext,
): UpstreamError {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  const said = json === undefined ? text : errorText((json as { error?: unknown } | null)?.error);
  return upstreamErrorFromStatus(
    status,
    said ? `${status} ${said}` : `${status} status code (no body)`,
    context,
    {
      retryAfterMs: parseRetryAfter(header(headers, 'retry-after')),
    },
  );
}

function errorText(error: unknown): string | undefined {
  if (!error) return undefined;
  const message = (error as { message?: unknown }).message;
  if (message) return typeof message === 'string' ? message : JSON.stringify(message);
  return typeof error === 'string' ? error : JSON.stringify(error);
}

const abortReason = (signal: AbortSignal | undefined): Error =>
  signal?.reason instanceof Error ? signal.reason : new DOMException('aborted', 'AbortError');

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** A non-streamed chat.completion as the one chunk that carries all of it. */
function completionAsChunk(completion: object): ChatChunk {
  const { choices, usage } = completion as {
    choices?: { message?: Record<string, unknown> | null; finish_reason?: unknown }[] | null;
    usage?: ChatChunk['usage'];
  };
  const choice = Array.isArray(choices) ? choices[0] : undefined;
  const message = choice?.message ?? {};
  const calls = Array.isArray(message.tool_calls) ? (message.tool_calls as ToolCallFragment[]) : [];
  return {
    choices: [
      {
        delta: {
          content: message.content,
          refusal: message.refusal,
          tool_calls: calls.map((call, index) => ({ ...call, index })),
        },
        finish_reason: choice?.finish_reason,
      },
    ],
    usage: usage ?? null,
  };
}
