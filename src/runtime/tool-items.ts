import type { ModelEvent, ModelItem } from '../providers/index.js';

/**
 * Items produced by tools Enclave runs itself (MCP, `src/runs/mcp-turn-router.ts`): `mcp_list_tools`,
 * `mcp_call`, `mcp_approval_request` and the client's `mcp_approval_response`, in OpenAI's wire shape.
 * They are stored like any item (one JSON body, labelled with the turn's label) and shown to a model in
 * later turns as developer notes, so a conversation remembers what its tools said.
 */
export const toolItemTypes = [
  'mcp_list_tools',
  'mcp_call',
  'mcp_approval_request',
  'mcp_approval_response',
] as const;
export type ToolItemType = (typeof toolItemTypes)[number];

/**
 * The stored body: the item exactly as the client sees it (minus id and label, which the item carries), and
 * `summary`, the text a model and the safety screen see of it.
 */
export interface ToolItemBody {
  tool: Record<string, unknown>;
  summary: string;
}

export const isToolItemType = (type: string): type is ToolItemType =>
  (toolItemTypes as readonly string[]).includes(type);

/**
 * An event a server-side tool adds to a model's stream: the item is emitted and stored as output of the
 * turn in its place among the model's text. (Safety's output screen passes unknown events through.)
 */
export interface ToolItemEvent {
  type: 'tool_item';
  itemType: ToolItemType;
  /** The item's id (`mcpl_…`, `mcp_…`, `mcpr_…`): the client answers approvals by it. */
  id: string;
  item: Record<string, unknown>;
}

/** The tool item an event of a model's (wrapped) stream carries, if it is one. */
export const toolItemOf = (event: ModelEvent | ToolItemEvent): ToolItemEvent | undefined =>
  event.type === 'tool_item' ? event : undefined;

/** The stored form of a tool item event, labelled with the turn's label. */
export const toolNewItem = (event: ToolItemEvent, labelId: string) => ({
  id: event.id,
  type: event.itemType,
  role: null,
  status: 'completed' as const,
  callId: null,
  body: { tool: event.item, summary: toolSummary(event.itemType, event.item) },
  labelId,
});

export function toolApiItem(
  id: string,
  type: ToolItemType,
  body: ToolItemBody,
  banner: string,
): Record<string, unknown> {
  return { ...body.tool, type, id, label: banner };
}

/** What a later turn's model is shown of a tool item. */
export function toolModelItem(type: ToolItemType, body: ToolItemBody): ModelItem {
  return { type: 'message', role: 'developer', text: body.summary || toolSummary(type, body.tool) };
}

/** The text a model is shown of a tool item (stored with it as `summary`). */
export function toolSummary(type: ToolItemType, t: Record<string, unknown>): string {
  const s = (k: string) => (typeof t[k] === 'string' ? t[k] : '');
  let text: string;
  switch (type) {
    case 'mcp_list_tools': {
      const tools = Array.isArray(t.tools) ? (t.tools as { name?: unknown }[]) : [];
      text = `MCP server '${s('server_label')}' offers tools: ${tools.map((x) => String(x.name)).join(', ') || 'none'}.`;
      break;
    }
    case 'mcp_call':
      text =
        `MCP tool ${s('server_label')}.${s('name')}(${s('arguments')}) ` +
        (t.error ? `failed: ${s('error')}` : `returned: ${s('output')}`);
      break;
    case 'mcp_approval_request':
      text = `Approval was requested to call MCP tool ${s('server_label')}.${s('name')}(${s('arguments')}).`;
      break;
    case 'mcp_approval_response':
      text = `The approval request ${s('approval_request_id')} was ${t.approve ? 'approved' : 'rejected'}.`;
      break;
  }
  return text;
}
