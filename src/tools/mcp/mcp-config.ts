import { z } from 'zod';
import { configSection, type Config } from '../../config/config.js';

/**
 * When a call needs a human: OpenAI's `require_approval` shape — `always`, `never`, or per tool name
 * (`{"always":{"tool_names":[…]},"never":{"tool_names":[…]}}`; a tool in neither list needs approval).
 */
export const requireApprovalSchema = z.union([
  z.enum(['always', 'never']),
  z
    .object({
      always: z.object({ tool_names: z.array(z.string()) }).optional(),
      never: z.object({ tool_names: z.array(z.string()) }).optional(),
    })
    .strict(),
]);
export type RequireApproval = z.output<typeof requireApprovalSchema>;

const serverSchema = z
  .object({
    /** Streamable HTTP endpoint. */
    url: z.url().optional(),
    /** Or a local stdio server. */
    command: z.string().min(1).optional(),
    args: z.array(z.string()).default([]),
    env: z.record(z.string(), z.string()).optional(),
    headers: z.record(z.string(), z.string()).optional(),
    require_approval: requireApprovalSchema.default('always'),
    /** Only these tools are offered to the model (default: all the server lists). */
    allowed_tools: z.array(z.string()).optional(),
    /** Canonical label every output of this server carries (what it may return is at most this secret). */
    label: z.string().min(1).optional(),
  })
  .strict()
  .refine((s) => (s.url === undefined) !== (s.command === undefined), {
    message: 'give exactly one of url (streamable HTTP) or command (stdio)',
  });

export const toolsConfigSchema = z
  .object({
    mcp_servers: z.record(z.string().regex(/^[A-Za-z0-9_-]{1,64}$/), serverSchema).default({}),
    /** URLs a request may name in a `{"type":"mcp","server_url"}` tool (exact match or prefix ending in `/`). */
    allowed_server_urls: z.array(z.url()).default([]),
    /** Label of outputs from request-supplied servers and configured servers without one. */
    default_output_label: z.string().min(1).default('UNCLASSIFIED'),
    /** Per-call timeout. */
    call_timeout_ms: z.number().int().positive().default(60_000),
  })
  .strict();

export type ToolsConfig = z.output<typeof toolsConfigSchema>;
export type McpServerConfig = z.output<typeof serverSchema>;

export const toolsConfig = (config: Config): ToolsConfig => configSection(config, 'tools', toolsConfigSchema);

/** Whether a call of `toolName` needs a human's approval under `policy`. */
export function needsApproval(policy: RequireApproval, toolName: string): boolean {
  if (policy === 'always') return true;
  if (policy === 'never') return false;
  if (policy.always?.tool_names.includes(toolName)) return true;
  if (policy.never?.tool_names.includes(toolName)) return false;
  return true;
}

/** Whether the admin allows requests to name this MCP server URL. */
export function isAllowedServerUrl(allowed: readonly string[], url: string): boolean {
  return allowed.some((a) => a === url || (a.endsWith('/') && url.startsWith(a)));
}
