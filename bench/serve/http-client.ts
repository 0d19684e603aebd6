import { Agent, request } from 'node:http';

/**
 * The bench's HTTP client: plain node:http over a keep-alive agent (no undici, no web streams), so the client
 * spends as little CPU as possible per request and the same client drives every target alike.
 */
export interface HttpClient {
  post(url: URL, body: unknown, headers?: Record<string, string>): Promise<{ status: number; text: string }>;
  close(): void;
}

export function httpClient(connections: number): HttpClient {
  // maxSockets is per host: one socket per closed-loop worker on each target, reused across requests.
  const agent = new Agent({ keepAlive: true, maxSockets: connections, maxFreeSockets: connections });
  return {
    post: (url, body, headers = {}) =>
      new Promise((resolve, reject) => {
        const payload = JSON.stringify(body);
        const req = request(
          {
            agent,
            host: url.hostname,
            port: url.port,
            path: url.pathname,
            method: 'POST',
            headers: {
              ...headers,
              'content-type': 'application/json',
              'content-length': Buffer.byteLength(payload),
            },
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('error', reject);
            // Latency is until the whole body is read (for SSE: until the stream ends).
            res.on('end', () =>
              resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
            );
          },
        );
        req.on('error', reject);
        req.end(payload);
      }),
    close: () => agent.destroy(),
  };
}
