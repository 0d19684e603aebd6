import { createServer, type ServerHttp2Session } from 'node:http2';
import type { AddressInfo } from 'node:net';

/**
 * A loopback Bedrock Runtime answering InvokeModel (`POST /model/{id}/invoke`) as Titan Text Embeddings v2
 * does: `{embedding, inputTextTokenCount}`. The vector for each text comes from `vectorOf`, so a test
 * decides which texts are "similar". Cleartext HTTP/2, like test/support/mock-bedrock.ts (the SDK's default
 * handler); the real SDK is pointed at it with `endpoint` and fake credentials. Records every request.
 */
export interface MockBedrockEmbeddings {
  readonly url: string;
  readonly received: { modelId: string; body: Record<string, unknown> }[];
  close(): Promise<void>;
}

export async function startMockBedrockEmbeddings(
  vectorOf: (text: string) => number[],
): Promise<MockBedrockEmbeddings> {
  const received: MockBedrockEmbeddings['received'] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const match = /^\/model\/([^/]+)\/invoke$/.exec(req.url ?? '');
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>;
      received.push({ modelId: decodeURIComponent(match?.[1] ?? ''), body });
      if (!match || typeof body.inputText !== 'string') {
        res.writeHead(400, {
          'content-type': 'application/json',
          'x-amzn-errortype': 'ValidationException:http://internal.amazon.com/coral/com.amazon.bedrock/',
        });
        res.end(JSON.stringify({ message: 'inputText is required' }));
        return;
      }
      const text = body.inputText;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ embedding: vectorOf(text), inputTextTokenCount: text.split(/\s+/).length }));
    });
  });
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
    close: () => {
      for (const session of sessions) session.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
