import { EnclaveError, isEnclaveError } from '../errors/index.js';
import type { Principal } from '../identity/principal.js';
import { lub, parseBanner, parseCanonicalLabel, renderBanner, type Label } from '../labels/index.js';
import { prepareSerialized, runSerialized } from '../runtime/conversation-turn.js';
import type { CreateResponse, PreparedTurn, RuntimeDeps } from '../runtime/index.js';
import { requestLabel } from '../runtime/label-gate.js';
import type { SafetyGate, ScreenContext } from '../runtime/safety-gate.js';
import type { Store } from '../store/store.js';
import type { AuditLog } from '../audit/index.js';
import { createMcpToolset, resolveMcpServers, type McpToolset } from '../tools/mcp/mcp-toolset.js';
import type { ToolsConfig } from '../tools/mcp/mcp-config.js';
import type { Surface } from '../safety/index.js';
import { BuiltinToolHost } from './builtin-tools.js';
import { JournaledRouter } from './journaled-router.js';
import { listMcpToolsStep } from './mcp-steps.js';
import { McpTurnRouter, type McpLoop } from './mcp-turn-router.js';
import type { RunContext } from './run-context.js';
import type { RunHandler } from './run-engine.js';

/** The run kind of a response executed by the worker pool (background, MCP tools, held for review). */
export const RESPONSE_RUN = 'response';

/** What a response run needs to (re)start from scratch; stored as the run's input. */
export interface ResponseRunInput {
  /** The caller's subject (the run acts for them; approvals record them as requester). */
  principal: string;
  caller: Principal;
  request: CreateResponse;
  /** The request's `{"type":"mcp"}` tools, as sent. */
  mcpTools: unknown[];
  background: boolean;
  /** Set when the request's inputs were escalated at submit time: the run waits for a reviewer first. */
  held?: { reason: string } | undefined;
}

export interface ResponseRunDeps {
  runtime: RuntimeDeps;
  store: Store;
  audit: AuditLog;
  tools: ToolsConfig;
  /** How long a background turn waits for its conversation before the queue retries it later. */
  conversationWaitMs?: number;
}

/**
 * Executes a response as a durable run: the same runtime path as a synchronous request (`prepareTurn` →
 * `runTurn`, under the conversation's writer lease) with the pre-assigned response id, but every model call
 * is a checkpointed step (JournaledRouter), MCP tools run inside the turn (McpTurnRouter), every stream event
 * is recorded for replay, and a safety escalation parks the run until a reviewer decides.
 */
export function responseRunHandler(deps: ResponseRunDeps): RunHandler {
  return async (ctx) => {
    const input = ctx.run.input as ResponseRunInput;
    const { caller } = input;
    const scope = await deps.runtime.labels.scope(caller);
    const raise = raiseRunLabel(deps, ctx);
    // Stored by an execution that died before the run's final transition: the turn is done.
    const stored = await deps.store.responses.get(scope, ctx.run.id);
    if (stored) {
      await raise(await deps.runtime.labels.label(stored.labelId));
      return { output: { status: stored.status }, status: finalStatus(stored.status) };
    }
    // A run stored before runs had labels (migration 0013) may have none yet: the request's label, as at submit.
    if (ctx.labelId === null)
      await raise(await requestLabel(deps.runtime.labels, caller, input.request.label));

    let reviewed = false;
    const prior = await deps.store.approvals.forStep(ctx.run.id, 0);
    if (input.held || prior?.source === 'safety') {
      await reviewerGate(ctx, caller, input.held?.reason ?? prior?.reason ?? null);
      reviewed = true;
    }
    const toolset = createMcpToolset(resolveMcpServers(deps.tools, input.mcpTools), {
      callTimeoutMs: deps.tools.call_timeout_ms,
    });
    // Settled once the run carries the prepared turn's label (or the turn failed): the model call opened
    // while the turn is prepared completes its step only then, under that label (JournaledRouter).
    let labelled!: () => void;
    const turnLabelled = new Promise<void>((resolve) => (labelled = resolve));
    try {
      const request = withToolLabels(input.request, toolset, deps.runtime.labels.defaultLabel(caller));
      const runtime = await turnDeps(deps, ctx, toolset, caller, reviewed, turnLabelled);
      let turn: PreparedTurn;
      try {
        turn = await prepareSerialized(runtime, caller, structuredClone(request), ctx.signal, {
          id: ctx.run.id,
          holder: `run:${ctx.run.id}`,
          waitMs: deps.conversationWaitMs ?? 2_000,
        });
      } catch (error) {
        // A red-line input: the run waits for a reviewer instead of refusing (step 0 is that approval).
        if (!reviewed && isEnclaveError(error) && error.code === 'safety_held') {
          await reviewerGate(ctx, caller, error.message);
          const approved = await turnDeps(deps, ctx, toolset, caller, true, turnLabelled);
          turn = await prepareSerialized(approved, caller, structuredClone(request), ctx.signal, {
            id: ctx.run.id,
            holder: `run:${ctx.run.id}`,
            waitMs: deps.conversationWaitMs ?? 2_000,
          });
          await raise(turn.label);
          labelled();
          return await stream(ctx, approved, turn, raise);
        }
        throw error;
      }
      await raise(turn.label);
      labelled();
      return await stream(ctx, runtime, turn, raise);
    } finally {
      labelled();
      await toolset.close();
    }
  };
}

/**
 * Raises the run's label to the lub of its current label and `label` (labels only rise: the turn's
 * high-water mark). Later steps, events and approvals carry the raised label; earlier rows keep theirs (they
 * hold only what was loaded before), and a reader below the raised label no longer sees the run at all.
 */
function raiseRunLabel(deps: ResponseRunDeps, ctx: RunContext) {
  const labels = deps.runtime.labels;
  return async (label: Label): Promise<void> => {
    const current = ctx.labelId === null ? label : lub(await labels.label(ctx.labelId), label);
    await ctx.relabel(await labels.ensure(current));
  };
}

async function stream(
  ctx: RunContext,
  runtime: RuntimeDeps,
  turn: PreparedTurn,
  raise: (label: Label) => Promise<void>,
) {
  const events = runSerialized(runtime, turn, ctx.signal);
  let seen = turn.labelId;
  let step = await events.next();
  while (!step.done) {
    // The memory tool raises the turn's label mid-turn. Its `tool_call` step already completed under the
    // raised label with the run raised alongside (StepHandle.raiseLabel), so every later step, event and
    // approval carries it; this catches up any other raise of the turn's label before the next event.
    if (turn.labelId !== seen) {
      seen = turn.labelId;
      await raise(turn.label);
    }
    await ctx.emit(step.value.type, step.value);
    step = await events.next();
  }
  // A cancel that arrived mid-turn: the turn was stored as cancelled; the run ends the same way.
  if (ctx.signal.aborted) throw ctx.signal.reason;
  // The stored response's label: the turn's, plus whatever the turn loaded later (e.g. memory tool results).
  const stored = await runtime.store.responses.get(turn.scope, ctx.run.id);
  if (stored) await raise(await runtime.labels.label(stored.labelId));
  const status = String(step.value.response.status);
  return { output: { status }, status: finalStatus(status) };
}

const finalStatus = (status: string): 'completed' | 'incomplete' | 'failed' =>
  status === 'failed'
    ? 'failed'
    : status === 'incomplete' || status === 'cancelled'
      ? 'incomplete'
      : 'completed';

/** The safety approval gate: parks until a reviewer (not the requester) decides; a rejection is a refusal. */
async function reviewerGate(ctx: RunContext, caller: Principal, reason: string | null): Promise<void> {
  const outcome = await ctx.approval({
    source: 'safety',
    serverLabel: null,
    toolName: 'response',
    arguments: '{}',
    reason,
    label: caller.clearance,
  });
  if (!outcome.approved) {
    throw new EnclaveError(
      'safety_blocked',
      `A reviewer rejected this request after review${outcome.reason ? ` (${outcome.reason})` : ''}. ` +
        'Nothing was sent to a model.',
    );
  }
}

/** The runtime the run's turn uses: journaled model calls, the MCP loop, and (once reviewed) the approved gate. */
async function turnDeps(
  deps: ResponseRunDeps,
  ctx: RunContext,
  toolset: McpToolset,
  caller: Principal,
  reviewed: boolean,
  turnLabelled: Promise<void>,
): Promise<RuntimeDeps> {
  const gate = deps.runtime.safety;
  const safety = reviewed && gate ? reviewedGate(gate) : gate;
  let router: JournaledRouter | McpTurnRouter = new JournaledRouter(deps.runtime.router, ctx, turnLabelled);
  // [memory tool] with memory on, the turn may offer the built-in memory tool (src/runtime/memory-tool.ts).
  const builtins = deps.runtime.memory?.config.enabled ? new BuiltinToolHost() : undefined;
  if (toolset.servers.length > 0 || builtins) {
    const lists = [];
    for (const server of toolset.servers) lists.push(await listMcpToolsStep(ctx, toolset, server.label));
    router = new McpTurnRouter(router, { ...mcpLoop(deps, ctx, toolset, lists, caller, safety), builtins });
  }
  return { ...deps.runtime, router, safety, builtinTools: builtins };
}

function mcpLoop(
  deps: ResponseRunDeps,
  ctx: RunContext,
  toolset: McpToolset,
  lists: McpLoop['lists'],
  caller: Principal,
  gate: SafetyGate | undefined,
): McpLoop {
  const loop: McpLoop = {
    ctx,
    toolset,
    lists,
    principal: caller.subject,
    contextLabel: caller.clearance,
    audit: deps.audit,
  };
  if (!gate?.enabled) return loop;
  // Screened under the caller's clearance: a review item is never labelled lower than what the turn could see.
  const screenContext = async (): Promise<ScreenContext> => {
    const label = parseCanonicalLabel(caller.clearance);
    return {
      tenantId: caller.tenantId,
      principal: caller.subject,
      label,
      labelId: await deps.runtime.labels.ensure(label),
    };
  };
  const screen = async (surface: Surface, text: string, subject: string) =>
    gate.screen(await screenContext(), { surface, text, subject });
  loop.screenCall = (call) =>
    ctx.step('safety_verdict', `tool_call:${call.serverLabel}.${call.name}`, { ...call }, async (step) => {
      const s = await screen('tool_call', call.arguments, step.idempotencyKey);
      const names = s.verdict.categories.map((c) => c.category).join(', ');
      return { action: s.verdict.action, reason: names ? `safety: ${names}` : null };
    });
  loop.screenOutput = async (item) => {
    if (item.output === null) return item;
    const s = await screen('tool_output', item.output, item.id);
    if (s.verdict.action === 'block' || s.verdict.action === 'escalate') {
      return {
        ...item,
        output: null,
        error: 'The tool output was withheld by the safety policy.',
        status: 'failed',
      };
    }
    return item;
  };
  return loop;
}

/**
 * The safety gate of a run a reviewer approved: the same screens and records, but an escalation no longer
 * holds the request (the human already decided it); blocks still block. A prototype view of the server's
 * gate, so it shares its configuration, store and audit log.
 */
function reviewedGate(gate: SafetyGate): SafetyGate {
  const reviewed = Object.create(gate) as SafetyGate;
  reviewed.screen = async (context, target) => {
    const verdict = gate.classify(context.tenantId, target.text, target.surface);
    return gate.record(
      context,
      target,
      verdict.action === 'escalate' ? { ...verdict, action: 'flag' } : verdict,
    );
  };
  return reviewed;
}

/** The request label joined with the labels of the MCP servers it may call: their outputs join the turn. */
function withToolLabels(request: CreateResponse, toolset: McpToolset, unlabelled: Label): CreateResponse {
  if (toolset.servers.length === 0) return request;
  // Without a header the request is the caller's default label (else clearance), as in requestLabel: never lower.
  let label = request.label ? parseBanner(request.label) : unlabelled;
  for (const server of toolset.servers) label = lub(label, parseCanonicalLabel(server.outputLabel));
  return { ...request, label: renderBanner(label) };
}
