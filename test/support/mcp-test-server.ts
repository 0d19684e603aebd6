// An MCP server for tests, built with the SDK's McpServer. Run directly it serves over stdio (the ledger of
// executed calls goes to the file named by MCP_LEDGER); `startMcpHttpServer` serves it over streamable HTTP
// on 127.0.0.1. Calls are deduplicated by Enclave's idempotency key, as a careful real tool would do.
import { appendFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { z } from 'zod';

export const mcpTestServerPath = fileURLToPath(import.meta.url);

/** Every execution of a tool with a side effect, by idempotency key (a replay with a known key is not one). */
export type Ledger = { key: string; tool: string }[];

export function createTestMcpServer(
  record: (entry: { key: string; tool: string }) => void,
  seen = new Map<string, string>(),
  /** Every delivery of a call with a side effect, replays included (at-least-once delivery shows here). */
  delivered: (entry: { key: string; tool: string }) => void = () => undefined,
): McpServer {
  const server = new McpServer({ name: 'enclave-test-tools', version: '1.0.0' });
  const once = (tool: string, key: unknown, effect: () => string) => {
    const k = typeof key === 'string' ? key : `nokey-${Math.random()}`;
    delivered({ key: k, tool });
    const previous = seen.get(k);
    if (previous !== undefined) return previous;
    const out = effect();
    seen.set(k, out);
    record({ key: k, tool });
    return out;
  };
  server.registerTool(
    'add',
    { description: 'Adds two numbers.', inputSchema: { a: z.number(), b: z.number() } },
    ({ a, b }, extra) => ({
      content: [
        { type: 'text', text: once('add', extra._meta?.['enclave/idempotency_key'], () => String(a + b)) },
      ],
    }),
  );
  server.registerTool(
    'delete_record',
    { description: 'Deletes a record (destructive).', inputSchema: { id: z.string() } },
    ({ id }, extra) => ({
      content: [
        {
          type: 'text',
          text: once('delete_record', extra._meta?.['enclave/idempotency_key'], () => `deleted ${id}`),
        },
      ],
    }),
  );
  server.registerTool(
    'sleep',
    { description: 'Waits, then answers.', inputSchema: { ms: z.number() } },
    async ({ ms }, extra) => {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, ms);
        extra.signal.addEventListener('abort', () => (clearTimeout(t), resolve()));
      });
      return {
        content: [
          {
            type: 'text',
            text: once('sleep', extra._meta?.['enclave/idempotency_key'], () => `slept ${ms}`),
          },
        ],
      };
    },
  );
  server.registerTool('fails', { description: 'Always reports an error.' }, () => ({
    content: [{ type: 'text', text: 'tool exploded' }],
    isError: true,
  }));
  return server;
}

/** Serves a fresh test server per session over streamable HTTP on 127.0.0.1. */
export async function startMcpHttpServer(): Promise<{
  url: string;
  /** Executed effects (deduplicated by idempotency key). */
  ledger: Ledger;
  /** Every call delivered, before deduplication. */
  deliveries: Ledger;
  close(): Promise<void>;
}> {
  const ledger: Ledger = [];
  const deliveries: Ledger = [];
  const seen = new Map<string, string>();
  const http = createServer((req, res) => {
    // Stateless mode (no session id): a new server and transport per request, as the SDK documents.
    const server = createTestMcpServer(
      (e) => ledger.push(e),
      seen,
      (e) => deliveries.push(e),
    );
    const transport = new StreamableHTTPServerTransport({});
    res.on('close', () => void transport.close().then(() => server.close()));
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      void server
        .connect(transport)
        .then(() => transport.handleRequest(req, res, body ? JSON.parse(body) : undefined));
    });
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const { port } = http.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    ledger,
    deliveries,
    close: () => new Promise((resolve) => http.close(() => resolve())),
  };
}

if (process.argv[1] === mcpTestServerPath) {
  const ledgerFile = process.env.MCP_LEDGER;
  const server = createTestMcpServer((e) => {
    if (ledgerFile) appendFileSync(ledgerFile, `${JSON.stringify(e)}\n`);
  });
  await server.connect(new StdioServerTransport());
}
