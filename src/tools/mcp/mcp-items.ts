import type { McpToolInfo } from './mcp-connection.js';

/** Output items of the Responses API for MCP, as OpenAI defines them. */
export interface McpListToolsItem {
  type: 'mcp_list_tools';
  id: string;
  server_label: string;
  tools: McpToolInfo[];
  error: string | null;
}

export interface McpCallItem {
  type: 'mcp_call';
  id: string;
  server_label: string;
  name: string;
  arguments: string;
  output: string | null;
  error: string | null;
  approval_request_id: string | null;
  status: 'completed' | 'failed' | 'incomplete';
  /** Canonical security label of `output` (an Enclave extension; OpenAI clients ignore it). */
  label: string;
}

export interface McpApprovalRequestItem {
  type: 'mcp_approval_request';
  id: string;
  server_label: string;
  name: string;
  arguments: string;
}

export const mcpApprovalRequestItem = (
  approvalId: string,
  serverLabel: string,
  name: string,
  args: string,
): McpApprovalRequestItem => ({
  type: 'mcp_approval_request',
  id: approvalId,
  server_label: serverLabel,
  name,
  arguments: args,
});
