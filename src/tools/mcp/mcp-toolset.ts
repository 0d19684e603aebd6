import { EnclaveError } from '../../errors/index.js';
import { connectMcp, type McpCallResult, type McpConnection, type McpToolInfo } from './mcp-connection.js';
import { isAllowedServerUrl, needsApproval, type RequireApproval, type ToolsConfig } from './mcp-config.js';
import { allowedToolNames, mcpRequestToolSchema } from './mcp-request-tool.js';

/** One MCP server as a run sees it: where it is, which tools it may use, and what needs a human. */
export interface McpServerBinding {
  label: string;
  url: string | undefined;
  command: string | undefined;
  args: readonly string[];
  env: Record<string, string> | undefined;
  headers: Record<string, string> | undefined;
  allowedTools: readonly string[] | undefined;
  /** A call needs approval when any of these policies (the admin's, the request's) asks for it. */
  requireApproval: readonly RequireApproval[];
  /** Canonical label every output of this server carries. */
  outputLabel: string;
}

/**
 * The MCP servers of one run: configured servers named by the request's `{"type":"mcp"}` tools, plus
 * request-supplied URLs the admin allows. Tool lists are fetched once per run and cached; connections are
 * opened on first use and closed with `close()`.
 */
export interface McpToolset {
  readonly servers: readonly McpServerBinding[];
  listTools(serverLabel: string, signal?: AbortSignal): Promise<McpToolInfo[]>;
  needsApproval(serverLabel: string, toolName: string): boolean;
  call(
    serverLabel: string,
    toolName: string,
    argumentsJson: string,
    options: { idempotencyKey: string; signal?: AbortSignal },
  ): Promise<McpCallResult & { label: string }>;
  close(): Promise<void>;
}

/** Resolves the `mcp` entries of a request's `tools` against the `tools` config section. */
export function resolveMcpServers(config: ToolsConfig, requestTools: readonly unknown[]): McpServerBinding[] {
  const bindings: McpServerBinding[] = [];
  for (const raw of requestTools) {
    if ((raw as { type?: unknown } | null)?.type !== 'mcp') continue;
    const parsed = mcpRequestToolSchema.safeParse(raw);
    if (!parsed.success) {
      throw new EnclaveError('invalid_request', `Invalid mcp tool: ${parsed.error.issues[0]?.message}.`, {
        param: 'tools',
      });
    }
    const tool = parsed.data;
    const configured = config.mcp_servers[tool.server_label];
    if (bindings.some((b) => b.label === tool.server_label)) {
      throw new EnclaveError('invalid_request', `MCP server_label '${tool.server_label}' is used twice.`, {
        param: 'tools',
      });
    }
    const requested = allowedToolNames(tool);
    if (configured && (tool.server_url === undefined || tool.server_url === configured.url)) {
      const adminAllowed = configured.allowed_tools;
      bindings.push({
        label: tool.server_label,
        url: configured.url,
        command: configured.command,
        args: configured.args,
        env: configured.env,
        headers: configured.headers,
        allowedTools: intersect(adminAllowed, requested),
        // A request may ask for more approvals than the admin set, never for fewer.
        requireApproval: tool.require_approval
          ? [configured.require_approval, tool.require_approval]
          : [configured.require_approval],
        outputLabel: configured.label ?? config.default_output_label,
      });
      continue;
    }
    if (tool.server_url === undefined) {
      throw new EnclaveError(
        'invalid_request',
        `No MCP server '${tool.server_label}' is configured; give a server_url.`,
        {
          param: 'tools',
        },
      );
    }
    if (!isAllowedServerUrl(config.allowed_server_urls, tool.server_url)) {
      throw new EnclaveError(
        'forbidden',
        `MCP server URL ${tool.server_url} is not allowed by the administrator.`,
        {
          param: 'tools',
        },
      );
    }
    bindings.push({
      label: tool.server_label,
      url: tool.server_url,
      command: undefined,
      args: [],
      env: undefined,
      headers: tool.headers,
      allowedTools: requested,
      requireApproval: [tool.require_approval ?? 'always'],
      outputLabel: config.default_output_label,
    });
  }
  return bindings;
}

const intersect = (a: readonly string[] | undefined, b: readonly string[] | undefined) =>
  a === undefined ? b : b === undefined ? a : a.filter((x) => b.includes(x));

export function createMcpToolset(
  servers: readonly McpServerBinding[],
  options: { callTimeoutMs?: number; connect?: typeof connectMcp } = {},
): McpToolset {
  const connect = options.connect ?? connectMcp;
  const connections = new Map<string, Promise<McpConnection>>();
  const lists = new Map<string, Promise<McpToolInfo[]>>();
  const server = (label: string) => {
    const s = servers.find((b) => b.label === label);
    if (!s)
      throw new EnclaveError('invalid_request', `No MCP server '${label}' in this request's tools.`, {
        param: 'tools',
      });
    return s;
  };
  const connection = (s: McpServerBinding) => {
    let c = connections.get(s.label);
    if (!c) {
      c = connect(s, s.label);
      c.catch(() => connections.delete(s.label));
      connections.set(s.label, c);
    }
    return c;
  };
  return {
    servers,
    listTools(label, signal) {
      const s = server(label);
      let list = lists.get(label);
      if (!list) {
        list = connection(s)
          .then((c) => c.listTools(signal))
          .then((tools) => (s.allowedTools ? tools.filter((t) => s.allowedTools?.includes(t.name)) : tools));
        list.catch(() => lists.delete(label));
        lists.set(label, list);
      }
      return list;
    },
    needsApproval: (label, toolName) => server(label).requireApproval.some((p) => needsApproval(p, toolName)),
    async call(label, toolName, argumentsJson, callOptions) {
      const s = server(label);
      if (s.allowedTools && !s.allowedTools.includes(toolName)) {
        throw new EnclaveError('forbidden', `Tool '${toolName}' of MCP server '${label}' is not allowed.`);
      }
      let args: unknown;
      try {
        args = argumentsJson.trim() === '' ? {} : JSON.parse(argumentsJson);
      } catch {
        return { output: 'The tool call arguments are not valid JSON.', isError: true, label: s.outputLabel };
      }
      if (typeof args !== 'object' || args === null || Array.isArray(args)) {
        throw new EnclaveError(
          'invalid_request',
          `Arguments of MCP tool '${toolName}' must be a JSON object.`,
        );
      }
      const c = await connection(s);
      const result = await c.callTool(toolName, args as Record<string, unknown>, {
        idempotencyKey: callOptions.idempotencyKey,
        ...(callOptions.signal ? { signal: callOptions.signal } : {}),
        ...(options.callTimeoutMs ? { timeoutMs: options.callTimeoutMs } : {}),
      });
      return { ...result, label: s.outputLabel };
    },
    async close() {
      const open = [...connections.values()];
      connections.clear();
      await Promise.all(open.map((c) => c.then((x) => x.close()).catch(() => undefined)));
    },
  };
}
