import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { collectTurn } from '../collect-turn.js';
import { UpstreamError } from '../provider-error.js';
import { ChatClient, type ChatChunk } from './chat-client.js';
import { OpenAIProvider } from './openai-provider.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

const key = 'sk-test-abcdef0123456789';
const context = { endpoint: 'openai/raw', secrets: [key] };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const chunk = (content: string, extra: Record<string, unknown> = {}) =>
  `data: ${JSON.stringify({ choices: [{ index: 0, delta: { content }, finish_reason: null }], ...extra })}\n\n`;

let server: Server;
let url: string;
let handler: Handler;
let connections = 0;
let closedEarly: Promise<boolean>;
beforeAll(async () => {
  server = createServer((req, res) => {
    closedEarly = new Promise((resolve) => res.on('close', () => resolve(!res.writableFinished)));
    req.resume();
    req.on('end', () => void Promise.resolve(handler(req, res)).catch(() => res.destroy()));
  });
  server.on('connection', () => connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
beforeEach(() => {
  connections = 0;
});

const client = (apiKey: string | undefined = key) => new ChatClient({ baseURL: url, apiKey, context });
const keyless = () => new ChatClient({ baseURL: url, context });
const sse = (res: ServerResponse) => res.writeHead(200, { 'content-type': 'text/event-stream' });
const drain = async (chat: ChatClient, signal?: AbortSignal): Promise<ChatChunk[]> => {
  const out: ChatChunk[] = [];
  for await (const c of chat.stream({ model: 'm', messages: [] }, signal)) out.push(c);
  return out;
};
const failure = (promise: Promise<unknown>): Promise<unknown> =>
  promise.then(
    () => undefined,
    (error: unknown) => error,
  );
const texts = (chunks: ChatChunk[]) => chunks.map((c) => c.choices?.[0]?.delta?.content);

describe('ChatClient', () => {
  it('yields each chunk as it arrives, whatever the TCP reads split (frames, CRLF, UTF-8)', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    handler = async (_req, res) => {
      sse(res);
      res.write(': keep-alive\r\n\r\n' + chunk('first'));
      await held;
      const frame = chunk('ünï ✓').replaceAll('\n', '\r\n');
      const bytes = Buffer.from(frame + chunk('last') + 'data: [DONE]\n\n');
      // Byte-by-byte around the multi-byte characters and the CRLFs.
      for (let i = 0; i < bytes.length; i += 3) {
        res.write(bytes.subarray(i, i + 3));
        await sleep(1);
      }
      res.end();
    };
    const iterator = client().stream({ model: 'm', messages: [] })[Symbol.asyncIterator]();
    const first = await iterator.next();
    expect(first.value?.choices?.[0]?.delta?.content).toBe('first');
    release();
    const rest: ChatChunk[] = [];
    for (let r = await iterator.next(); !r.done; r = await iterator.next()) rest.push(r.value);
    expect(texts(rest)).toEqual(['ünï ✓', 'last']);
  });

  it('sends the body, the key only when configured, and extra headers; reuses one kept-alive connection', async () => {
    const seen: IncomingMessage['headers'][] = [];
    handler = (req, res) => {
      seen.push(req.headers);
      sse(res);
      res.end(chunk('x') + 'data: [DONE]\n\n');
    };
    const chat = new ChatClient({ baseURL: `${url}/`, apiKey: key, headers: { 'X-Route': 'a' }, context });
    await drain(chat);
    // The pool takes the socket back once the response has ended, a tick after the last read.
    await new Promise((resolve) => setImmediate(resolve));
    await drain(chat);
    expect(connections).toBe(1);
    expect(seen[0]).toMatchObject({ authorization: `Bearer ${key}`, 'x-route': 'a' });
    await drain(keyless());
    expect(seen[2]?.authorization).toBeUndefined();
  });

  it('maps non-2xx answers like the SDK did: status, OpenAI error body, Retry-After, no secrets', async () => {
    const answer = (status: number, body: string, headers: Record<string, string> = {}) => {
      handler = (_req, res) => {
        res.writeHead(status, { 'content-type': 'application/json', ...headers });
        res.end(body);
      };
      return failure(drain(client()));
    };
    const limited = await answer(429, JSON.stringify({ error: { message: 'slow down' } }), {
      'retry-after': '3',
    });
    expect(limited).toBeInstanceOf(UpstreamError);
    expect(limited).toMatchObject({
      code: 'rate_limited',
      retryable: true,
      retryAfterMs: 3000,
      upstreamStatus: 429,
      message: 'Model endpoint openai/raw is rate limited: 429 slow down',
    });
    expect(await answer(502, 'bad gateway <html>')).toMatchObject({
      code: 'upstream_error',
      retryable: true,
      message: 'Model endpoint openai/raw failed (502): 502 bad gateway <html>',
    });
    expect(await answer(504, '')).toMatchObject({ code: 'upstream_timeout', retryable: true });
    const rejected = await answer(400, JSON.stringify({ error: { message: `bad key ${key}` } }));
    expect(rejected).toMatchObject({ code: 'invalid_request', retryable: false, status: 400 });
    expect((rejected as Error).message).not.toContain(key);
    expect(await answer(404, '')).toMatchObject({
      message: 'Model endpoint openai/raw rejected the request: 404 status code (no body)',
    });
  });

  it('turns an error event inside the stream into a retryable upstream_error', async () => {
    handler = (_req, res) => {
      sse(res);
      res.end(chunk('partial') + `data: {"error":{"message":"overloaded, key ${key}"}}\n\n`);
    };
    const error = await failure(drain(client()));
    expect(error).toMatchObject({ code: 'upstream_error', retryable: true });
    expect((error as Error).message).toBe(
      'Model endpoint openai/raw failed mid-stream: overloaded, key [redacted]',
    );
    handler = (_req, res) => {
      sse(res);
      res.end('event: error\ndata: {"message":"server fault"}\n\n');
    };
    expect(await failure(drain(client()))).toMatchObject({
      message: expect.stringContaining('server fault'),
    });
  });

  it('refuses a malformed chunk with a clear error', async () => {
    handler = (_req, res) => {
      sse(res);
      res.end(chunk('ok') + 'data: {"choices": [\n\n');
    };
    const error = await failure(drain(client()));
    expect(error).toMatchObject({
      code: 'upstream_error',
      message: 'Model endpoint openai/raw sent a malformed answer chunk (not a JSON object).',
    });
  });

  it('stops a stream whose line never ends instead of buffering it', async () => {
    handler = (_req, res) => {
      sse(res);
      res.write(`data: ${'x'.repeat(17 * 1024 * 1024)}`);
    };
    const error = await failure(drain(client()));
    expect(error).toMatchObject({ code: 'upstream_error', retryable: true });
    expect((error as Error).message).toMatch(/sent a malformed stream \(a stream line exceeded/);
    expect(await closedEarly).toBe(true);
  });

  it('ignores whatever follows [DONE] and accepts a last event without its blank line', async () => {
    handler = (_req, res) => {
      sse(res);
      res.end(chunk('a') + 'data: [DONE]\n\n' + chunk('after'));
    };
    expect(texts(await drain(client()))).toEqual(['a']);
    handler = (_req, res) => {
      sse(res);
      res.end(chunk('a') + chunk('b').trimEnd());
    };
    expect(texts(await drain(client()))).toEqual(['a', 'b']);
  });

  it('takes a plain JSON chat.completion from a server that ignores stream: true', async () => {
    handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
      res.end(
        JSON.stringify({
          object: 'chat.completion',
          choices: [
            {
              index: 0,
              message: {
                role: 'assistant',
                content: 'hi',
                tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: '{}' } }],
              },
              finish_reason: 'tool_calls',
            },
          ],
          usage: { prompt_tokens: 5, completion_tokens: 2, total_tokens: 7 },
        }),
      );
    };
    const provider = new OpenAIProvider({ endpointId: 'openai/raw', baseURL: url });
    const turn = await collectTurn(provider.stream({ model: 'm', items: [] }));
    expect(turn).toMatchObject({
      text: 'hi',
      functionCalls: [{ callId: 'c1', name: 'f', arguments: '{}' }],
      usage: { inputTokens: 5, outputTokens: 2 },
      stopReason: 'tool_calls',
    });
  });

  it('keeps every chunk in order for a slow reader (reading pauses and resumes)', async () => {
    handler = (_req, res) => {
      sse(res);
      res.end(Array.from({ length: 2000 }, (_, i) => chunk(String(i))).join('') + 'data: [DONE]\n\n');
    };
    const seen: unknown[] = [];
    for await (const c of client().stream({ model: 'm', messages: [] })) {
      seen.push(c.choices?.[0]?.delta?.content);
      if (seen.length % 100 === 0) await sleep(2);
    }
    expect(seen).toEqual(Array.from({ length: 2000 }, (_, i) => String(i)));
  });

  it('fails a stream whose connection drops mid-answer as retryable, never as finished', async () => {
    handler = async (_req, res) => {
      sse(res);
      res.write(chunk('partial'));
      await sleep(10);
      res.socket?.destroy();
    };
    const provider = new OpenAIProvider({ endpointId: 'openai/raw', baseURL: url, apiKey: key });
    const error = await failure(collectTurn(provider.stream({ model: 'm', items: [] })));
    expect(error).toMatchObject({ code: 'upstream_error', retryable: true });
    expect((error as Error).message).toMatch(/^Model endpoint openai\/raw could not be reached/);
  });

  it('cancels the upstream request on abort, mid-stream or before the headers, with the reason', async () => {
    handler = (_req, res) => {
      sse(res);
      res.write(chunk('a'));
    };
    const controller = new AbortController();
    const provider = new OpenAIProvider({ endpointId: 'openai/raw', baseURL: url });
    const run = async () => {
      for await (const event of provider.stream({ model: 'm', items: [], signal: controller.signal })) {
        if (event.type === 'text_delta') controller.abort(new Error('caller left'));
      }
    };
    await expect(run()).rejects.toThrow('caller left');
    expect(await closedEarly).toBe(true);
    handler = () => undefined;
    const early = new AbortController();
    const pending = failure(drain(client(), early.signal));
    await sleep(20);
    early.abort(new Error('gone before headers'));
    expect(await pending).toBeInstanceOf(Error);
    expect(await closedEarly).toBe(true);
  });
});
