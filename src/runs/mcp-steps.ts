import { createHash } from 'node:crypto';
import type { McpCallItem, McpListToolsItem } from '../tools/mcp/mcp-items.js';
import type { McpToolset } from '../tools/mcp/mcp-toolset.js';
import type { ApprovalOutcome, AuditAppender, RunContext } from './run-context.js';

const itemId = (prefix: string, key: string) =>
  `${prefix}_${createHash('sha256').update(key).digest('hex').slice(0, 32)}`;

/**
 * Lists a server's tools as a checkpointed step: the list is fetched once per run and kept in the run's
 * journal, so a resumed run offers the model exactly the tools it saw before the crash.
 */
export async function listMcpToolsStep(
  ctx: RunContext,
  toolset: McpToolset,
  serverLabel: string,
): Promise<McpListToolsItem> {
  return ctx.step('tool_call', `mcp_list_tools:${serverLabel}`, { serverLabel }, async (step) => {
    try {
      const tools = await toolset.listTools(serverLabel, step.signal);
      return {
        type: 'mcp_list_tools',
        id: itemId('mcpl', step.idempotencyKey),
        server_label: serverLabel,
        tools,
        error: null,
      };
    } catch (error) {
      if (step.signal.aborted) throw error;
      const message = error instanceof Error ? error.message : String(error);
      return {
        type: 'mcp_list_tools',
        id: itemId('mcpl', step.idempotencyKey),
        server_label: serverLabel,
        tools: [],
        error: message,
      };
    }
  });
}

export interface McpCallRequest {
  serverLabel: string;
  name: string;
  /** JSON text, as the model produced it. */
  arguments: string;
  /** Canonical label of the run's context (classifies audit entries). */
  contextLabel: string;
  principal: string;
}

/**
 * One MCP tool call of a run: the approval gate first when the server's policy demands it (the run parks
 * in `requires_action` until a human answers), then the call as a checkpointed step whose idempotency key
 * reaches the server in `_meta`. Outputs carry the server's label. A rejected call returns an `mcp_call`
 * item with an error and never reaches the server.
 */
export async function mcpCallStep(
  ctx: RunContext,
  toolset: McpToolset,
  call: McpCallRequest,
  audit?: AuditAppender,
): Promise<McpCallItem> {
  let approvalId: string | null = null;
  if (toolset.needsApproval(call.serverLabel, call.name)) {
    const outcome = await mcpApprovalStep(ctx, call, 'mcp', null);
    approvalId = outcome.approvalId;
    if (!outcome.approved) return rejectedMcpCall(ctx, call, outcome);
  }
  return mcpExecuteStep(ctx, toolset, call, approvalId, audit);
}

/** The approval gate of one call (an `approval_wait` step): parks the run until someone decides. */
export function mcpApprovalStep(
  ctx: RunContext,
  call: McpCallRequest,
  source: 'mcp' | 'safety' | 'policy',
  reason: string | null,
): Promise<ApprovalOutcome> {
  return ctx.approval({
    source,
    serverLabel: call.serverLabel,
    toolName: call.name,
    arguments: call.arguments,
    reason,
    label: call.contextLabel,
  });
}

/** The `mcp_call` item of a call a human rejected: it never reached the server. */
export function rejectedMcpCall(
  ctx: RunContext,
  call: McpCallRequest,
  outcome: ApprovalOutcome,
): McpCallItem {
  return {
    type: 'mcp_call',
    id: itemId('mcp', `${ctx.run.id}:${outcome.approvalId}`),
    server_label: call.serverLabel,
    name: call.name,
    arguments: call.arguments,
    output: null,
    error: `The call was rejected by ${outcome.decidedBy ?? 'a reviewer'}${outcome.reason ? `: ${outcome.reason}` : ''}.`,
    approval_request_id: outcome.approvalId,
    status: 'failed',
    label: call.contextLabel,
  };
}

/** The call itself as a checkpointed step; `screen` may rewrite or withhold the output before it is recorded. */
export function mcpExecuteStep(
  ctx: RunContext,
  toolset: McpToolset,
  call: McpCallRequest,
  approvalId: string | null,
  audit?: AuditAppender,
  screen?: (item: McpCallItem) => Promise<McpCallItem>,
): Promise<McpCallItem> {
  return ctx.step('tool_call', `mcp:${call.serverLabel}.${call.name}`, { ...call }, async (step) => {
    const result = await toolset.call(call.serverLabel, call.name, call.arguments, {
      idempotencyKey: step.idempotencyKey,
      signal: step.signal,
    });
    await audit?.append({
      type: 'tool.call',
      time: Date.now(),
      tenant: ctx.run.tenantId,
      principal: call.principal,
      objectId: step.idempotencyKey,
      label: result.label,
      sessionLabel: call.contextLabel,
      detail: { server: call.serverLabel, tool: call.name, isError: result.isError, approval: approvalId },
    });
    const item: McpCallItem = {
      type: 'mcp_call',
      id: itemId('mcp', step.idempotencyKey),
      server_label: call.serverLabel,
      name: call.name,
      arguments: call.arguments,
      output: result.isError ? null : result.output,
      error: result.isError ? result.output : null,
      approval_request_id: approvalId,
      status: result.isError ? 'failed' : 'completed',
      label: result.label,
    };
    return screen ? screen(item) : item;
  });
}
