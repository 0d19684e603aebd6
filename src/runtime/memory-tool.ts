import type { Principal } from '../identity/principal.js';
import { canonicalLabel, lub, type Label } from '../labels/index.js';
import { memoryToolSpec, parseMemoryToolArgs, runMemoryTool } from '../memory/index.js';
import type { BuiltinTool } from '../runs/builtin-tools.js';
import type { ReadScope } from '../store/read-scope.js';
import { accreditedFor } from './accreditation.js';
import type { History } from './context.js';
import { memoryOwner, memoryReader } from './memory-hooks.js';
import type { RuntimeDeps } from './turn.js';

/** The part of a prepared turn the memory tool raises: its context label (the response's high-water mark). */
export interface TurnLabel {
  label: Label;
  labelId: string;
}

/** What one executed call recorded in the run's journal (replayed as is on resume). */
interface StepResult {
  output: string;
  /** Labels of the records the model was shown: they join the turn's label, as for automatic recall. */
  labelIds: string[];
}

/**
 * [memory tool] Offers the built-in `memory` tool (search / remember) to the turn's tool loop when memory is
 * on for the request and the turn runs as a durable run (only runs have the server-side tool loop). A call
 * runs as a checkpointed `tool_call` step: `search` recalls through the same reader as automatic recall (the
 * caller's scope below the turn's ceiling) and the records' labels raise the turn's label, after which the
 * next model round is routed only to endpoints accredited for it; `remember` writes through the memory
 * screen (quarantine). Both are audited (`memory.read` via tool, `memory.write` rule `memory.tool`). Returns
 * the binder the prepared turn hands itself to, or undefined when the tool is not offered.
 */
export async function offerMemoryTool(
  deps: RuntimeDeps,
  principal: Principal,
  request: { metadata: Readonly<Record<string, string>>; conversationId: string | null },
  scope: ReadScope,
  ceiling: { history: History; requestLabel: Label },
): Promise<{ bind(turn: TurnLabel): void } | undefined> {
  const memory = deps.memory;
  const owner = memoryOwner(memory, principal, request.metadata);
  if (!memory || !owner || !deps.builtinTools) return undefined;
  const reader = await memoryReader(deps.labels, principal, owner, scope, ceiling);
  let turn: TurnLabel | undefined;
  const who = {
    tenant: principal.tenantId,
    principal: principal.subject,
    ...(principal.onBehalfOf !== undefined ? { onBehalfOf: principal.onBehalfOf } : {}),
  };

  const execute = async (argumentsJson: string, key: string, current: TurnLabel): Promise<StepResult> => {
    const args = parseMemoryToolArgs(argumentsJson);
    if ('error' in args) return { output: `Error: ${args.error}`, labelIds: [] };
    if (args.action === 'remember') {
      // Recorded before the write (fail-closed), like every memory write decision.
      await memory.audit.append({
        type: 'memory.write',
        time: Date.now(),
        ...who,
        decision: 'allow',
        rule: 'memory.tool',
        label: canonicalLabel(current.label),
        detail: { user: owner.userId, ...(owner.agentId ? { agent: owner.agentId } : {}), step: key },
      });
    }
    const result = await runMemoryTool(
      memory.service,
      { reader, owner, labelId: current.labelId, conversationId: request.conversationId },
      args,
      key,
      Date.now(),
    );
    if (result.action === 'remember') {
      if (result.outcome.status === 'quarantined') {
        await memory.audit.append({
          type: 'memory.write',
          time: Date.now(),
          ...who,
          decision: 'deny',
          rule: 'memory.quarantine',
          objectId: result.outcome.id,
          label: canonicalLabel(current.label),
          detail: { reason: result.outcome.reason.slice(0, 300), via: 'tool' },
        });
      }
      return { output: result.output, labelIds: [] };
    }
    if (result.hits.length === 0) return { output: result.output, labelIds: [] };
    const labelIds = [...new Set(result.hits.map((h) => h.record.labelId))];
    let read: Label | undefined;
    for (const id of labelIds) {
      const l = await deps.labels.label(id);
      read = read ? lub(read, l) : l;
    }
    await memory.audit.append({
      type: 'memory.read',
      time: Date.now(),
      ...who,
      decision: 'allow',
      rule: 'memory.recall',
      label: canonicalLabel(read ?? current.label),
      detail: { records: result.hits.map((h) => h.record.id), via: 'tool' },
    });
    return { output: result.output, labelIds };
  };

  const tool: BuiltinTool = {
    spec: memoryToolSpec,
    async run(ctx, argumentsJson) {
      if (!turn) throw new Error('memory tool called before its turn was prepared');
      const current = turn;
      const result = await ctx.step('tool_call', 'memory', { arguments: argumentsJson }, async (step) => {
        const done = await execute(argumentsJson, step.idempotencyKey, current);
        // The step's row holds the recalled text: it completes under the records' labels joined with the
        // run's, and the run rises with it (src/runs/run-context.ts), so no row under-states what it holds.
        if (done.labelIds.length > 0) {
          step.raiseLabel(async (runLabelId) => {
            let label = await deps.labels.label(runLabelId);
            for (const id of done.labelIds) label = lub(label, await deps.labels.label(id));
            return deps.labels.ensure(label);
          });
        }
        return done;
      });
      // Outside the step, so a resumed run that replays the recorded result raises the label again.
      for (const id of result.labelIds) {
        current.label = lub(current.label, await deps.labels.label(id));
        current.labelId = await deps.labels.ensure(current.label);
      }
      return result.output;
    },
    routeOptions: (options) => (turn ? { ...options, isAllowed: accreditedFor(turn.label) } : options),
  };
  deps.builtinTools.offer(tool);
  return {
    bind(prepared) {
      turn = prepared;
    },
  };
}

/**
 * Whether a Responses request runs as a durable run for the memory tool's sake: memory on for the caller
 * and the request, and the turn stored (a run is stored; `store: false` keeps the request's own path, with
 * automatic recall but without the tool).
 */
export const runsForMemoryTool = (
  memory: RuntimeDeps['memory'],
  principal: Principal,
  request: {
    metadata?: Readonly<Record<string, string>> | null | undefined;
    store?: boolean | null | undefined;
  },
): boolean => request.store !== false && memoryOwner(memory, principal, request.metadata ?? {}) !== undefined;
