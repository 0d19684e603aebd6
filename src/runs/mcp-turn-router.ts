import { EnclaveError } from '../errors/index.js';
import {
  ModelRouter,
  type FunctionToolSpec,
  type ModelEvent,
  type ModelItem,
  type ModelUsage,
  type RouteOptions,
  type RoutedTurn,
  type TurnRequest,
} from '../providers/index.js';
import type { ToolItemEvent } from '../runtime/tool-items.js';
import type { McpCallItem, McpListToolsItem } from '../tools/mcp/mcp-items.js';
import { mcpApprovalRequestItem } from '../tools/mcp/mcp-items.js';
import type { McpToolset } from '../tools/mcp/mcp-toolset.js';
import type { BuiltinToolHost } from './builtin-tools.js';
import type { AuditAppender, RunContext } from './run-context.js';
import { isRunInterrupt } from './run-interrupt.js';
import { mcpApprovalStep, mcpExecuteStep, rejectedMcpCall, type McpCallRequest } from './mcp-steps.js';

/** Model rounds one turn may take (each round: the model answers, Enclave runs the MCP calls it asked for). */
const MAX_ROUNDS = 8;

/** What the tool loop needs besides the toolset: the run, and how calls are screened and audited. */
export interface McpLoop {
  ctx: RunContext;
  toolset: McpToolset;
  /** The checkpointed tool lists (one per server), already fetched. */
  lists: readonly McpListToolsItem[];
  principal: string;
  /** Canonical label the run's approvals and tool audit entries are classified with. */
  contextLabel: string;
  audit?: AuditAppender | undefined;
  /**
   * The safety screen of a call's arguments (a `safety_verdict` step): `escalate` puts the call behind a
   * reviewer's approval, `block` refuses it. Absent when safety is off.
   */
  screenCall?: (call: McpCallRequest) => Promise<{ action: string; reason: string | null }>;
  /** The safety screen of a call's output (redaction, or withholding a blocked output). */
  screenOutput?: (item: McpCallItem) => Promise<McpCallItem>;
  /** Built-in tools (the memory tool) the turn offers while it is prepared; run here like MCP calls. */
  builtins?: BuiltinToolHost | undefined;
}

/**
 * The model router of a turn with MCP tools. The servers' tools are offered to the model as functions;
 * when the model calls one, Enclave runs it (approval gate, safety screen, checkpointed call) instead of
 * handing the call to the client, shows the model the result and opens the next round — all inside the
 * one model stream the turn consumes, so `runTurn` stores the turn whole. The MCP items (`mcp_list_tools`,
 * `mcp_approval_request`, `mcp_call`) reach the turn as `tool_item` events in their place. Compaction
 * (`complete`) sees no tools.
 */
export class McpTurnRouter extends ModelRouter {
  private readonly byFunction = new Map<string, { server: string; tool: string }>();
  private readonly specs: FunctionToolSpec[] = [];
  /** Built-in tool names offered to the model in this turn (read from the host when the model is opened). */
  private offered = new Set<string>();

  constructor(
    private readonly inner: ModelRouter,
    private readonly loop: McpLoop,
  ) {
    super(inner.registry);
    for (const list of loop.lists) {
      for (const tool of list.tools) {
        const name = functionName(list.server_label, tool.name);
        this.byFunction.set(name, { server: list.server_label, tool: tool.name });
        this.specs.push({
          name,
          parameters: (tool.input_schema as Record<string, unknown> | null) ?? {
            type: 'object',
            properties: {},
          },
          ...(tool.description ? { description: tool.description } : {}),
        });
      }
    }
  }

  override complete(modelId: string, request: TurnRequest, options: RouteOptions = {}) {
    return this.inner.complete(modelId, request, options);
  }

  override async open(
    modelId: string,
    request: TurnRequest,
    options: RouteOptions = {},
  ): Promise<RoutedTurn> {
    const taken = [...(request.tools ?? []), ...this.specs];
    const builtins = this.loop.builtins?.specs(taken) ?? [];
    this.offered = new Set(builtins.map((b) => b.name));
    const sent = { ...request, tools: [...taken, ...builtins] };
    const first = await this.inner.open(modelId, sent, options);
    // Live when any round reached a model in this process (rounds replayed from the run's journal are not).
    const turn = { live: first.live?.() ?? true };
    return { ...first, events: this.rounds(modelId, sent, options, first, turn), live: () => turn.live };
  }

  private async *rounds(
    modelId: string,
    request: TurnRequest,
    opened: RouteOptions,
    first: RoutedTurn,
    turn: { live: boolean },
  ): AsyncGenerator<ModelEvent> {
    let options = opened;
    const { ctx } = this.loop;
    for (const list of this.loop.lists) yield toolEvent('mcp_list_tools', list.id, list);
    const items: ModelItem[] = [...request.items];
    const total: ModelUsage = { inputTokens: 0, outputTokens: 0 };
    let routed = first;
    for (let round = 1; ; round++) {
      const calls: Extract<ModelEvent, { type: 'function_call' }>[] = [];
      for await (const event of routed.events) {
        if (event.type === 'function_call' && this.serverSide(event.name)) calls.push(event);
        else if (event.type === 'done') {
          total.inputTokens += event.usage.inputTokens;
          total.outputTokens += event.usage.outputTokens;
          if (calls.length === 0) yield { ...event, usage: total };
        } else yield event;
      }
      if (calls.length === 0) return;
      for (const call of calls) {
        const builtin = this.offered.has(call.name) ? this.loop.builtins?.get(call.name) : undefined;
        if (builtin) {
          // A built-in tool's call and output are shown to the model only, never stored or streamed.
          items.push(
            { type: 'function_call', callId: call.callId, name: call.name, arguments: call.arguments },
            {
              type: 'function_call_output',
              callId: call.callId,
              output: await builtin.run(ctx, call.arguments),
            },
          );
          continue;
        }
        const target = this.byFunction.get(call.name)!;
        const request: McpCallRequest = {
          serverLabel: target.server,
          name: target.tool,
          arguments: call.arguments,
          contextLabel: this.loop.contextLabel,
          principal: this.loop.principal,
        };
        const item = yield* this.runCall(request);
        yield toolEvent('mcp_call', item.id, item);
        items.push(
          { type: 'function_call', callId: call.callId, name: call.name, arguments: call.arguments },
          {
            type: 'function_call_output',
            callId: call.callId,
            output: item.output ?? `Error: ${item.error ?? 'the tool failed'}`,
          },
        );
      }
      if (round >= MAX_ROUNDS) {
        throw new EnclaveError(
          'invalid_request',
          `The model called server-side tools in more than ${MAX_ROUNDS} rounds; stopped.`,
        );
      }
      if (ctx.signal.aborted) throw ctx.signal.reason;
      // A built-in tool's output may have raised the turn's label: the next round is routed under it.
      options = this.loop.builtins?.routeOptions(options) ?? options;
      routed = await this.inner.open(modelId, { ...request, items }, options);
      turn.live ||= routed.live?.() ?? true;
    }
  }

  private serverSide(name: string): boolean {
    return this.byFunction.has(name) || this.offered.has(name);
  }

  /** Approval (server policy or a safety escalation), then the call; yields the approval request item. */
  private async *runCall(call: McpCallRequest): AsyncGenerator<ModelEvent, McpCallItem> {
    const { ctx, toolset } = this.loop;
    const verdict = this.loop.screenCall
      ? await this.loop.screenCall(call)
      : { action: 'allow', reason: null };
    if (verdict.action === 'block') {
      return {
        ...rejectedMcpCall(ctx, call, {
          approvalId: '',
          approved: false,
          decidedBy: 'the safety policy',
          reason: verdict.reason,
        }),
        approval_request_id: null,
      };
    }
    const source =
      verdict.action === 'escalate'
        ? 'safety'
        : toolset.needsApproval(call.serverLabel, call.name)
          ? 'mcp'
          : null;
    let approvalId: string | null = null;
    if (source) {
      // The request item is emitted on every execution (parked or replayed), so event numbers stay stable.
      let outcome;
      try {
        outcome = await mcpApprovalStep(ctx, call, source, verdict.reason);
      } catch (error) {
        if (isRunInterrupt(error) && error.reason === 'suspended') {
          yield approvalEvent(error.detail, call);
        }
        throw error;
      }
      yield approvalEvent(outcome.approvalId, call);
      approvalId = outcome.approvalId;
      if (!outcome.approved) return rejectedMcpCall(ctx, call, outcome);
    }
    return mcpExecuteStep(ctx, toolset, call, approvalId, this.loop.audit, this.loop.screenOutput);
  }
}

const toolEvent = (itemType: ToolItemEvent['itemType'], id: string, item: object): ModelEvent => {
  const { id: _id, ...rest } = item as { id?: unknown };
  return { type: 'tool_item', itemType, id, item: rest } as ToolItemEvent as unknown as ModelEvent;
};

const approvalEvent = (approvalId: string, call: McpCallRequest): ModelEvent =>
  toolEvent(
    'mcp_approval_request',
    approvalId,
    mcpApprovalRequestItem(approvalId, call.serverLabel, call.name, call.arguments),
  );

/** A function name the model sees for an MCP tool (OpenAI allows [A-Za-z0-9_-]{1,64}). */
export const functionName = (server: string, tool: string): string =>
  `mcp_${server}_${tool}`.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 64);
