import type { IncomingHttpHeaders } from 'node:http';
import {
  createServer,
  type Http2ServerResponse as ServerResponse,
  type ServerHttp2Session,
} from 'node:http2';
import type { AddressInfo } from 'node:net';
import { EventStreamCodec, type MessageHeaders } from '@smithy/eventstream-codec';

/**
 * A loopback Bedrock Runtime speaking the Converse (JSON) and ConverseStream (AWS event-stream binary
 * frames) wire protocols, so the real SDK can be pointed at it with `endpoint` and fake credentials.
 * It speaks cleartext HTTP/2, as the SDK's default handler for Bedrock Runtime is HTTP/2.
 * Records every request it receives; replies are scriptable per request.
 */

export interface ReceivedBedrockRequest {
  operation: 'converse' | 'converse-stream' | 'unknown';
  modelId: string;
  headers: IncomingHttpHeaders;
  /** The Converse request body as sent by the SDK (messages, system, toolConfig, inferenceConfig). */
  body: Record<string, unknown>;
}

export type BedrockMockReply =
  | {
      kind: 'text';
      text: string;
      chunks?: string[];
      stopReason?: string;
      usage?: { inputTokens: number; outputTokens: number };
    }
  | {
      kind: 'tool_use';
      text?: string;
      calls: { toolUseId: string; name: string; input: Record<string, unknown> }[];
    }
  /** An HTTP error with Bedrock's error type header, e.g. 429 ThrottlingException, 400 ValidationException. */
  | { kind: 'error'; status: number; type: string; message?: string }
  /** A 200 stream that sends `afterChunks` text deltas and then an exception frame. */
  | { kind: 'stream_exception'; type: string; message?: string; afterChunks?: number };

export interface MockBedrock {
  readonly url: string;
  readonly received: ReceivedBedrockRequest[];
  queue(reply: BedrockMockReply, times?: number): void;
  close(): Promise<void>;
}

const utf8 = {
  to: (bytes: Uint8Array) => Buffer.from(bytes).toString('utf8'),
  from: (text: string) => new Uint8Array(Buffer.from(text, 'utf8')),
};
const codec = new EventStreamCodec(utf8.to, utf8.from);

const str = (value: string) => ({ type: 'string' as const, value });
function eventFrame(eventType: string, payload: unknown): Uint8Array {
  const headers: MessageHeaders = {
    ':message-type': str('event'),
    ':event-type': str(eventType),
    ':content-type': str('application/json'),
  };
  return codec.encode({ headers, body: utf8.from(JSON.stringify(payload)) });
}
function exceptionFrame(exceptionType: string, message: string): Uint8Array {
  const headers: MessageHeaders = {
    ':message-type': str('exception'),
    ':exception-type': str(exceptionType),
    ':content-type': str('application/json'),
  };
  return codec.encode({ headers, body: utf8.from(JSON.stringify({ message })) });
}

function defaultReply(body: Record<string, unknown>): BedrockMockReply {
  const messages = (body.messages ?? []) as { role: string; content: { text?: string }[] }[];
  const lastUser = [...messages].reverse().find((m) => m.role === 'user' && m.content.some((c) => c.text));
  const text = lastUser?.content.find((c) => c.text)?.text ?? '';
  return { kind: 'text', text: `[bedrock-mock] ${text}` };
}

export async function startMockBedrock(): Promise<MockBedrock> {
  const received: ReceivedBedrockRequest[] = [];
  const queued: BedrockMockReply[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const match = /^\/model\/([^/]+)\/(converse|converse-stream)$/.exec(req.url ?? '');
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>;
      const record: ReceivedBedrockRequest = {
        operation: (match?.[2] as 'converse' | 'converse-stream' | undefined) ?? 'unknown',
        modelId: decodeURIComponent(match?.[1] ?? ''),
        headers: req.headers,
        body,
      };
      received.push(record);
      answer(record, queued.shift() ?? defaultReply(body), res);
    });
  });

  function answer(record: ReceivedBedrockRequest, reply: BedrockMockReply, res: ServerResponse): void {
    if (record.operation === 'unknown')
      return error(res, 404, 'UnknownOperationException', 'no such operation');
    if (reply.kind === 'error') return error(res, reply.status, reply.type, reply.message ?? reply.type);
    const usage = reply.kind === 'text' && reply.usage ? reply.usage : { inputTokens: 11, outputTokens: 7 };
    const meta = {
      usage: { ...usage, totalTokens: usage.inputTokens + usage.outputTokens },
      metrics: { latencyMs: 1 },
    };
    if (record.operation === 'converse') {
      if (reply.kind === 'stream_exception')
        return error(res, 500, 'InternalServerException', 'not a stream');
      const content =
        reply.kind === 'text'
          ? [{ text: reply.text }]
          : [...(reply.text ? [{ text: reply.text }] : []), ...reply.calls.map((c) => ({ toolUse: c }))];
      const stopReason = reply.kind === 'text' ? (reply.stopReason ?? 'end_turn') : 'tool_use';
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ output: { message: { role: 'assistant', content } }, stopReason, ...meta }));
      return;
    }
    res.writeHead(200, { 'content-type': 'application/vnd.amazon.eventstream' });
    res.write(eventFrame('messageStart', { role: 'assistant' }));
    if (reply.kind === 'stream_exception') {
      for (let i = 0; i < (reply.afterChunks ?? 0); i++) {
        res.write(eventFrame('contentBlockDelta', { contentBlockIndex: 0, delta: { text: `part${i} ` } }));
      }
      res.end(exceptionFrame(reply.type, reply.message ?? reply.type));
      return;
    }
    let index = 0;
    const text = reply.kind === 'text' ? reply.text : reply.text;
    if (text) {
      const pieces = (reply.kind === 'text' ? reply.chunks : undefined) ?? text.match(/\S+\s*|\s+/g) ?? [];
      for (const piece of pieces)
        res.write(eventFrame('contentBlockDelta', { contentBlockIndex: index, delta: { text: piece } }));
      res.write(eventFrame('contentBlockStop', { contentBlockIndex: index++ }));
    }
    if (reply.kind === 'tool_use') {
      for (const call of reply.calls) {
        const input = JSON.stringify(call.input);
        const half = Math.ceil(input.length / 2);
        res.write(
          eventFrame('contentBlockStart', {
            contentBlockIndex: index,
            start: { toolUse: { toolUseId: call.toolUseId, name: call.name } },
          }),
        );
        for (const part of [input.slice(0, half), input.slice(half)]) {
          res.write(
            eventFrame('contentBlockDelta', {
              contentBlockIndex: index,
              delta: { toolUse: { input: part } },
            }),
          );
        }
        res.write(eventFrame('contentBlockStop', { contentBlockIndex: index++ }));
      }
    }
    const stopReason = reply.kind === 'text' ? (reply.stopReason ?? 'end_turn') : 'tool_use';
    res.write(eventFrame('messageStop', { stopReason }));
    res.end(eventFrame('metadata', meta));
  }

  // The SDK keeps HTTP/2 sessions open for reuse; close() must end them or server.close() waits forever.
  const sessions = new Set<ServerHttp2Session>();
  server.on('session', (session) => {
    sessions.add(session);
    session.on('close', () => sessions.delete(session));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    queue(reply, times = 1) {
      for (let i = 0; i < times; i++) queued.push(reply);
    },
    close: () => {
      for (const session of sessions) session.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function error(res: ServerResponse, status: number, type: string, message: string): void {
  res.writeHead(status, {
    'content-type': 'application/json',
    'x-amzn-errortype': `${type}:http://internal.amazon.com/coral/com.amazon.bedrock/`,
  });
  res.end(JSON.stringify({ message }));
}

/** Static fake credentials: the SDK signs with them, the mock does not check signatures. */
export const fakeAwsCredentials = { accessKeyId: 'AKIDFAKEFAKEFAKE', secretAccessKey: 'fake-secret' };
