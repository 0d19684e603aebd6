import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ChatCompletionCreateParams } from 'openai/resources/chat/completions';

/**
 * A small OpenAI-compatible upstream for tests: POST /v1/chat/completions (stream and non-stream) and
 * GET /v1/models on 127.0.0.1. It records every request it receives (`received`), and has switches for
 * delays, errors (429/503/400 …) and hangs, so provider, fallback and API conformance tests can assert
 * exactly what Enclave sent upstream.
 */

export interface ReceivedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** The parsed JSON body (chat requests); undefined for GETs or bodies that are not JSON. */
  body: ChatCompletionCreateParams | undefined;
  /** True once the mock has written its whole answer. */
  finished: boolean;
  /** True when the client hung up before the answer was complete (a cancelled stream, a timeout). */
  closedEarly: boolean;
}

export type MockReply =
  /** Text, streamed one chunk per element of `chunks` (default: one per word of `text`). */
  | { kind: 'text'; text: string; chunks?: string[]; finishReason?: 'stop' | 'length' | 'content_filter' }
  | { kind: 'tool_calls'; calls: { id: string; name: string; arguments: string }[] }
  /** An HTTP error in OpenAI's shape, with optional headers (e.g. retry-after). */
  | { kind: 'error'; status: number; message?: string; headers?: Record<string, string> }
  /** Accepts the request and never answers: for timeouts. */
  | { kind: 'hang' };

export interface MockOpenAIOptions {
  /** Decides each answer; default: `[mock] ` + the last user message, truncated to max tokens as words. */
  reply?: (body: ChatCompletionCreateParams, request: ReceivedRequest) => MockReply;
  /** Delay before the first byte, ms. */
  delayMs?: number;
  /** Delay between stream chunks after the first content chunk, ms. */
  chunkDelayMs?: number;
  /** Leave usage out of streams even when stream_options.include_usage asks for it. */
  omitUsage?: boolean;
}

export interface MockOpenAI {
  /** Base URL for an OpenAI client or OPENAI_BASE_URL: `http://127.0.0.1:<port>/v1`. */
  readonly url: string;
  readonly received: ReceivedRequest[];
  /** Chat requests only, in order (what most tests assert on). */
  chatRequests(): ChatCompletionCreateParams[];
  /** Answers the next `times` chat requests with this reply before returning to normal. */
  queue(reply: MockReply, times?: number): void;
  options: MockOpenAIOptions;
  close(): Promise<void>;
}

export function defaultReply(body: ChatCompletionCreateParams): MockReply {
  const lastUser = [...body.messages].reverse().find((m) => m.role === 'user');
  const content =
    typeof lastUser?.content === 'string' ? lastUser.content : JSON.stringify(lastUser?.content ?? '');
  const words = `[mock] ${content}`.split(' ');
  const limit = body.max_completion_tokens ?? body.max_tokens ?? undefined;
  if (limit != null && words.length > limit)
    return { kind: 'text', text: words.slice(0, limit).join(' '), finishReason: 'length' };
  return { kind: 'text', text: words.join(' ') };
}

const countWords = (text: string): number => text.split(/\s+/).filter(Boolean).length;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function startMockOpenAI(options: MockOpenAIOptions = {}): Promise<MockOpenAI> {
  const received: ReceivedRequest[] = [];
  const queued: MockReply[] = [];
  const open = new Set<ServerResponse>();
  const mock = { options } as { options: MockOpenAIOptions };

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      let body: ChatCompletionCreateParams | undefined;
      try {
        body = raw ? (JSON.parse(raw) as ChatCompletionCreateParams) : undefined;
      } catch {
        body = undefined;
      }
      const record: ReceivedRequest = {
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body,
        finished: false,
        closedEarly: false,
      };
      received.push(record);
      open.add(res);
      res.on('close', () => {
        open.delete(res);
        record.finished = res.writableFinished;
        if (!res.writableFinished) record.closedEarly = true;
      });
      void answer(record, res).catch(() => res.destroy());
    });
  });

  async function answer(record: ReceivedRequest, res: ServerResponse): Promise<void> {
    if (mock.options.delayMs) await sleep(mock.options.delayMs);
    if (record.method === 'GET' && record.path === '/v1/models') {
      return json(res, 200, {
        object: 'list',
        data: [{ id: 'mock-model', object: 'model', created: 0, owned_by: 'mock' }],
      });
    }
    if (record.method !== 'POST' || record.path !== '/v1/chat/completions' || !record.body) {
      return json(res, 404, {
        error: { message: `No route ${record.method} ${record.path}`, type: 'invalid_request_error' },
      });
    }
    const body = record.body;
    const reply = queued.shift() ?? (mock.options.reply ?? defaultReply)(body, record);
    if (reply.kind === 'hang') return;
    if (reply.kind === 'error') {
      res.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers });
      res.end(
        JSON.stringify({
          error: {
            message: reply.message ?? `mock error ${reply.status}`,
            type: 'api_error',
            param: null,
            code: null,
          },
        }),
      );
      return;
    }
    const promptTokens = body.messages.reduce(
      (n, m) => n + countWords(typeof m.content === 'string' ? m.content : ''),
      0,
    );
    const completionTokens =
      reply.kind === 'text'
        ? countWords(reply.text)
        : reply.calls.reduce((n, c) => n + countWords(c.arguments), 0);
    const usage = {
      prompt_tokens: promptTokens,
      completion_tokens: completionTokens,
      total_tokens: promptTokens + completionTokens,
    };
    const finish = reply.kind === 'text' ? (reply.finishReason ?? 'stop') : 'tool_calls';
    const base = { id: `chatcmpl-mock${received.length}`, created: 0, model: body.model };
    if (!body.stream) {
      const message =
        reply.kind === 'text'
          ? { role: 'assistant', content: reply.text }
          : {
              role: 'assistant',
              content: null,
              tool_calls: reply.calls.map((c) => ({
                id: c.id,
                type: 'function',
                function: { name: c.name, arguments: c.arguments },
              })),
            };
      return json(res, 200, {
        ...base,
        object: 'chat.completion',
        choices: [{ index: 0, message, finish_reason: finish }],
        usage,
      });
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    let sent = 0;
    const send = async (choices: unknown[], extra: Record<string, unknown> = {}) => {
      // The delay separates content chunks: the role chunk and the first content chunk go out at once.
      if (sent++ >= 2 && mock.options.chunkDelayMs) await sleep(mock.options.chunkDelayMs);
      if (res.destroyed) return;
      res.write(
        `data: ${JSON.stringify({ ...base, object: 'chat.completion.chunk', choices, ...extra })}\n\n`,
      );
    };
    await send([{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }]);
    if (reply.kind === 'text') {
      const pieces = reply.chunks ?? reply.text.match(/\S+\s*|\s+/g) ?? [];
      for (const piece of pieces) await send([{ index: 0, delta: { content: piece }, finish_reason: null }]);
    } else {
      for (const [index, call] of reply.calls.entries()) {
        // Like OpenAI: the first fragment carries id and name, the arguments follow in pieces.
        await send([
          {
            index: 0,
            delta: {
              tool_calls: [
                { index, id: call.id, type: 'function', function: { name: call.name, arguments: '' } },
              ],
            },
            finish_reason: null,
          },
        ]);
        const half = Math.ceil(call.arguments.length / 2);
        for (const part of [call.arguments.slice(0, half), call.arguments.slice(half)]) {
          if (part)
            await send([
              {
                index: 0,
                delta: { tool_calls: [{ index, function: { arguments: part } }] },
                finish_reason: null,
              },
            ]);
        }
      }
    }
    await send([{ index: 0, delta: {}, finish_reason: finish }]);
    if (body.stream_options?.include_usage && !mock.options.omitUsage) await send([], { usage });
    if (!res.destroyed) res.end('data: [DONE]\n\n');
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(mock, {
    url: `http://127.0.0.1:${port}/v1`,
    received,
    chatRequests: () =>
      received
        .filter((r) => r.path === '/v1/chat/completions' && r.body)
        .map((r) => r.body as ChatCompletionCreateParams),
    queue(reply: MockReply, times = 1) {
      for (let i = 0; i < times; i++) queued.push(reply);
    },
    async close() {
      for (const res of open) res.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  });
}

function json(res: ServerResponse, status: number, value: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(value));
}
