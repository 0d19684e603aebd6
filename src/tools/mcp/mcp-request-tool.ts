import { z } from 'zod';
import { requireApprovalSchema } from './mcp-config.js';

/** A `{"type":"mcp",…}` entry of a request's `tools` (OpenAI's shape). */
export const mcpRequestToolSchema = z
  .object({
    type: z.literal('mcp'),
    server_label: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'server_label: letters, digits, _ and - only'),
    server_url: z.url().optional(),
    server_description: z.string().optional(),
    allowed_tools: z.union([z.array(z.string()), z.object({ tool_names: z.array(z.string()) })]).optional(),
    require_approval: requireApprovalSchema.optional(),
    headers: z.record(z.string(), z.string()).optional(),
  })
  .loose();
export type McpRequestTool = z.output<typeof mcpRequestToolSchema>;

/** The client's answer to an `mcp_approval_request` item (an input item of the next request). */
export const mcpApprovalResponseSchema = z
  .object({
    type: z.literal('mcp_approval_response'),
    id: z.string().optional(),
    approval_request_id: z.string().min(1),
    approve: z.boolean(),
    reason: z.string().nullish(),
  })
  .loose();
export type McpApprovalResponse = z.output<typeof mcpApprovalResponseSchema>;

export const allowedToolNames = (tool: McpRequestTool): string[] | undefined =>
  tool.allowed_tools === undefined
    ? undefined
    : Array.isArray(tool.allowed_tools)
      ? tool.allowed_tools
      : tool.allowed_tools.tool_names;
