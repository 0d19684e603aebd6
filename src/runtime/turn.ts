import type { AuthEntry } from '../identity/auth-entry.js';
import type { Principal } from '../identity/principal.js';
import { lub, type Label } from '../labels/index.js';
import type { FunctionToolSpec, ModelRouter, RoutedTurn, ToolChoice } from '../providers/index.js';
import type { ReadScope } from '../store/read-scope.js';
import type { ConversationWriter } from '../runs/conversation-writer.js';
import type { Store } from '../store/store.js';
import { accreditedFor } from './accreditation.js';
import { loadHistory, requireKnownCalls, type History } from './context.js';
import { compactHistory, fitContext } from './context-window.js';
import { newId, toModelItem, type InputItem, type NewItem } from './items.js';
import type { LabelAccess } from './label-access.js';
import { labelInputs, requestLabel } from './label-gate.js';
import { abandon, openAudited, type CallContext } from './audit-model-call.js';
import type { ResponseParams } from './response-object.js';
import type { SafetyGate } from './safety-gate.js';
import { safetyIn } from './safety-hooks.js';
import { recallMemory, type MemoryRuntime } from './memory-hooks.js';
import type { PendingAudit } from './pending-audit.js';
import { offerMemoryTool } from './memory-tool.js';
import type { BuiltinToolHost } from '../runs/builtin-tools.js';

export interface RuntimeDeps {
  store: Store;
  labels: LabelAccess;
  router: ModelRouter;
  /** Server default compaction threshold (tokens) when a request sends no context_management. */
  compactThreshold: number | undefined;
  /** The safety stack on every path (safety-hooks.ts); absent only where a runtime is built without one. */
  safety?: SafetyGate | undefined;
  /** Long-term memory: recall into the context, learning from stored turns (memory-hooks.ts). */
  memory?: MemoryRuntime | undefined;
  /** [runs] Where a durable run's tool loop takes built-in tools (the memory tool) the turn offers. */
  builtinTools?: BuiltinToolHost | undefined;
}

/** A function tool in OpenAI's Responses wire form. */
export interface FunctionTool {
  type: 'function';
  name: string;
  description?: string | null | undefined;
  parameters: Record<string, unknown> | null;
  strict?: boolean | null | undefined;
}

/** POST /v1/responses, parsed. */
export interface CreateResponse {
  model: string;
  input: InputItem[];
  instructions: string | null;
  previousResponseId: string | null;
  conversationId: string | null;
  metadata: Record<string, string>;
  tools: FunctionTool[];
  params: ResponseParams;
  /** The Enclave-Classification header, if sent. */
  label: string | undefined;
}

/** A turn that passed every gate and has an answering endpoint; `runTurn` streams and stores it. */
export interface PreparedTurn {
  id: string;
  startedAt: number;
  principal: Principal;
  scope: ReadScope;
  request: CreateResponse;
  history: History;
  compaction: NewItem | null;
  inputs: NewItem[];
  /** The context label: lub of request, inputs and history. The response and its outputs carry it. */
  label: Label;
  labelId: string;
  routed: RoutedTurn;
  /** [audit] Entries of this turn still committing (the model call, the output verdict): settled before persist. */
  audit?: PendingAudit | undefined;
  /** [runs] The conversation's single-writer lease, held from before the history is read until persist. */
  writer?: ConversationWriter | undefined;
}

/**
 * The straight path of one turn, up to the first model event. Each step is one named call; the hooks other
 * domains add (safety, memory, audit) are one line each at the marked places. Everything here may refuse
 * with a 4xx before a byte of a stream is written.
 */
export async function prepareTurn(
  deps: RuntimeDeps,
  principal: Principal,
  request: CreateResponse,
  signal: AbortSignal | undefined,
  /**
   * [runs] `id`: the response id a background run was given at submit time. [audit] `auth`: the request's
   * `auth.ok` entry, unrecorded; it commits first in the turn's first audit commit (before any model is contacted).
   */
  options: { id?: string | undefined; auth?: AuthEntry | undefined } = {},
): Promise<PreparedTurn> {
  // [audit] the turn's entries are held (pending-audit.ts) and commit together: before a model is contacted,
  // before a refusal goes out, and with the turn's write at its end (turn-stream.ts, persist.ts).
  const pending = deps.labels.decisions.pending(deps.store);
  options.auth?.takeInto((entry) => pending.hold(entry));
  return prepareAudited(deps, principal, request, signal, options, pending).catch((error: unknown) =>
    pending.settleThenThrow(error),
  );
}

async function prepareAudited(
  deps: RuntimeDeps,
  principal: Principal,
  request: CreateResponse,
  signal: AbortSignal | undefined,
  options: { id?: string | undefined },
  pending: PendingAudit,
): Promise<PreparedTurn> {
  const startedAt = Date.now();
  const id = options.id ?? newId('resp');
  const scope = await deps.labels.scope(principal);

  // 1. Label the request and its items (403 label_denied above the caller's clearance).
  const requestLbl = await requestLabel(deps.labels, principal, request.label);
  const inputs = await labelInputs(deps.labels, principal, requestLbl, request.input);

  // 2. Assemble the context: what this turn continues from (404 for unknown or invisible ids).
  const history = await loadHistory(deps.store, deps.labels, principal, request, pending);
  requireKnownCalls(history.items, inputs.items);

  // 3. Label gate: the context label is the lub of everything the model will see. Hooks below that add to the
  // context (recalled memory, tool output) join their labels into `label` before step 4 uses it.
  let label = lub(lub(history.label, inputs.label), requestLbl);
  let labelId = await deps.labels.ensure(label);

  // [safety in]   classify `inputs` before any model sees them: 403 on block or escalation; the model sees
  // (and the store keeps) redacted text.
  const safe = await safetyIn(
    deps,
    principal,
    { label, labelId, pending },
    inputs.items,
    request.instructions,
  );
  inputs.items = safe.items;
  request.instructions = safe.instructions;
  // [memory recall] recalled memories join the context (a developer message marked as memory, recalled inside
  // the reader's scope and below the turn's ceiling) and their labels join `label` (memory-hooks.ts).
  const recalled = await recallMemory(
    deps,
    principal,
    { metadata: request.metadata, input: inputs.items },
    scope,
    {
      history,
      requestLabel: requestLbl,
    },
  );
  if (recalled) label = lub(label, recalled.label);
  // [memory tool] offered to a durable run's tool loop; what it recalls raises the turn's label (memory-tool.ts).
  const memoryTool = await offerMemoryTool(deps, principal, request, scope, {
    history,
    requestLabel: requestLbl,
  });

  // 4. The final context label: no write down into the conversation (recorded), and only endpoints accredited
  // for this label may be contacted.
  labelId = await deps.labels.ensure(label);
  if (history.conversation)
    await deps.labels.requireWrite(
      principal,
      { kind: 'conversation', ...history.conversation },
      label,
      pending,
    );
  const isAllowed = accreditedFor(label);

  // [audit] the turn's entries so far (auth, chain read, input verdicts) commit before any model sees what was
  // read; their fsync runs while the model starts (durable below, before the turn answers anything).
  await pending.commit();

  // 5. Context management: compaction past the threshold, then truncation to the model's window.
  // [audit] the summary's model call is recorded like the turn's own (`model.call`, purpose `compaction`).
  const compaction = await compactStep(deps, request, history, isAllowed, signal, {
    principal,
    objectId: id,
    label,
    startedAt,
  });
  const context = [
    ...(compaction ? [compaction] : history.items),
    ...(recalled ? [recalled.item] : []),
    ...inputs.items,
  ];
  const endpoint = deps.router.resolve(request.model);
  const tools = toolSpecs(request.tools);
  const items = fitContext(context.map(toModelItem), {
    model: request.model,
    instructions: request.instructions ?? undefined,
    tools,
    contextWindow: endpoint.contextWindow,
    maxOutputTokens: request.params.max_output_tokens ?? undefined,
    truncation: request.params.truncation,
  });

  // 6. Open the model turn (fallback across accredited endpoints until the first event arrives).
  const sent = {
    items,
    ...(request.instructions ? { instructions: request.instructions } : {}),
    ...(tools.length ? { tools } : {}),
    ...toolChoice(request.params.tool_choice),
    ...(request.params.temperature !== null ? { temperature: request.params.temperature } : {}),
    ...(request.params.max_output_tokens !== null
      ? { maxOutputTokens: request.params.max_output_tokens }
      : {}),
  };
  // [audit] the routing refusal and the model call are recorded (audit-model-call.ts, fail-closed).
  const routed = await openAudited(
    deps.labels.decisions,
    { principal, objectId: id, label, startedAt, pending },
    () => deps.router.open(request.model, sent, { isAllowed, signal }),
    sent,
  );
  // [audit] durable before the first byte of an answer (or a refusal) goes out.
  await pending.settle().catch(async (error: unknown) => {
    await abandon(routed);
    throw error;
  });
  const turn: PreparedTurn = {
    id,
    startedAt,
    principal,
    scope,
    request,
    history,
    compaction,
    inputs: inputs.items,
    label,
    labelId,
    routed,
    audit: pending,
  };
  memoryTool?.bind(turn);
  return turn;
}

async function compactStep(
  deps: RuntimeDeps,
  request: CreateResponse,
  history: History,
  isAllowed: ReturnType<typeof accreditedFor>,
  signal: AbortSignal | undefined,
  call: CallContext,
): Promise<NewItem | null> {
  const configured = request.params.context_management?.find((c) => c.type === 'compaction');
  const threshold = configured
    ? (configured.compact_threshold ?? deps.compactThreshold)
    : deps.compactThreshold;
  if (threshold === undefined || history.items.length === 0) return null;
  // The summary carries the history's label (its lub), never more or less than what it summarises.
  const historyLabelId = await deps.labels.ensure(history.label);
  return compactHistory(history.items, historyLabelId, {
    router: deps.router,
    model: request.model,
    isAllowed,
    threshold,
    open: (sent) =>
      openAudited(
        deps.labels.decisions,
        { ...call, startedAt: Date.now(), purpose: 'compaction' },
        () => deps.router.open(request.model, sent, { isAllowed, signal }),
        sent,
      ),
  });
}

function toolSpecs(tools: readonly FunctionTool[]): FunctionToolSpec[] {
  return tools.map((t) => ({
    name: t.name,
    parameters: t.parameters ?? { type: 'object', properties: {} },
    ...(t.description ? { description: t.description } : {}),
    ...(t.strict != null ? { strict: t.strict } : {}),
  }));
}

function toolChoice(wire: unknown): { toolChoice?: ToolChoice } {
  if (wire === 'auto' || wire === 'none' || wire === 'required') return { toolChoice: wire };
  if (typeof wire === 'object' && wire !== null && 'name' in wire && typeof wire.name === 'string')
    return { toolChoice: { name: wire.name } };
  return {};
}
