import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { EnclaveError } from '../../errors/index.js';
import { packageVersion } from '../../config/package-root.js';

/** A tool as an MCP server lists it (OpenAI's `mcp_list_tools` item carries the same fields). */
export interface McpToolInfo {
  name: string;
  description: string | null;
  input_schema: unknown;
  annotations: unknown;
}

export interface McpCallResult {
  /** The text the model sees (text content joined; structured content as JSON). */
  output: string;
  isError: boolean;
}

export interface McpEndpoint {
  url?: string | undefined;
  command?: string | undefined;
  args?: readonly string[];
  env?: Record<string, string> | undefined;
  headers?: Record<string, string> | undefined;
}

/** One live connection to an MCP server over streamable HTTP or stdio. */
export interface McpConnection {
  listTools(signal?: AbortSignal): Promise<McpToolInfo[]>;
  /** Calls a tool; `idempotencyKey` travels in the request's `_meta` so a server can deduplicate retries. */
  callTool(
    name: string,
    args: Record<string, unknown>,
    options: { idempotencyKey: string; signal?: AbortSignal; timeoutMs?: number },
  ): Promise<McpCallResult>;
  close(): Promise<void>;
}

export async function connectMcp(endpoint: McpEndpoint, label: string): Promise<McpConnection> {
  const client = new Client({ name: 'enclave', version: packageVersion() });
  const transport = endpoint.url
    ? new StreamableHTTPClientTransport(new URL(endpoint.url), {
        requestInit: { headers: endpoint.headers ?? {}, redirect: 'error' },
      })
    : new StdioClientTransport({
        command: endpoint.command ?? '',
        args: [...(endpoint.args ?? [])],
        ...(endpoint.env ? { env: { ...inheritedEnv(), ...endpoint.env } } : {}),
        stderr: 'ignore',
      });
  try {
    await client.connect(transport);
  } catch (cause) {
    throw new EnclaveError('upstream_error', `Cannot connect to MCP server '${label}'.`, { cause });
  }
  const upstream = (cause: unknown, what: string): never => {
    if ((cause as { name?: string } | null)?.name === 'AbortError') throw cause;
    throw new EnclaveError('upstream_error', `MCP server '${label}' failed to ${what}.`, { cause });
  };
  return {
    async listTools(signal) {
      const tools: McpToolInfo[] = [];
      let cursor: string | undefined;
      do {
        const page = await client
          .listTools(cursor ? { cursor } : {}, signal ? { signal } : {})
          .catch((e: unknown) => upstream(e, 'list its tools'));
        for (const t of page.tools) {
          tools.push({
            name: t.name,
            description: t.description ?? null,
            input_schema: t.inputSchema,
            annotations: t.annotations ?? null,
          });
        }
        cursor = page.nextCursor;
      } while (cursor);
      return tools;
    },
    async callTool(name, args, options) {
      const result = await client
        .callTool(
          { name, arguments: args, _meta: { 'enclave/idempotency_key': options.idempotencyKey } },
          undefined,
          {
            ...(options.signal ? { signal: options.signal } : {}),
            ...(options.timeoutMs ? { timeout: options.timeoutMs } : {}),
          },
        )
        .catch((e: unknown) => upstream(e, `run tool '${name}'`));
      return { output: renderContent(result), isError: result.isError === true };
    },
    close: () => client.close(),
  };
}

function renderContent(result: {
  content?: unknown;
  structuredContent?: unknown;
  toolResult?: unknown;
}): string {
  if (result.structuredContent !== undefined) return JSON.stringify(result.structuredContent);
  const parts = Array.isArray(result.content) ? (result.content as { type?: string; text?: string }[]) : [];
  if (parts.length === 0 && result.toolResult !== undefined) return JSON.stringify(result.toolResult);
  return parts
    .map((p) => (p.type === 'text' && typeof p.text === 'string' ? p.text : JSON.stringify(p)))
    .join('\n');
}

// The SDK's default environment for stdio children is minimal; a configured `env` adds to PATH etc.
const inheritedEnv = (): Record<string, string> =>
  Object.fromEntries(
    Object.entries(process.env).filter((e): e is [string, string] => typeof e[1] === 'string'),
  );
