import { randomUUID } from 'node:crypto';
import type { AuditEntry } from '../audit/audit-entry.js';
import type { ApprovalRecord } from '../store/repos/approval-repo.js';
import type { RunRecord } from '../store/repos/run-repo.js';
import type { StepKind } from '../store/repos/run-step-repo.js';
import type { Store } from '../store/store.js';
import { RunInterrupt } from './run-interrupt.js';

/** What a step's body gets: the key the effect must be deduplicated by, and the signal that stops it. */
export interface StepHandle {
  index: number;
  /** `<run id>:<step index>`: the same on every re-execution of this step, so a tool can deduplicate. */
  idempotencyKey: string;
  /** 1 on the first execution; more only when an earlier execution died or failed transiently. */
  attempt: number;
  signal: AbortSignal;
  /**
   * For a step whose output holds more than the run's label covers (the memory tool's recalled records):
   * `join` gets the run's label id when the step completes and returns one dominating it and the output.
   * The step's row (re-sealed) and the run take that label in the transaction that completes the step, so
   * the row never under-states its content and every later step, event and approval carries it too.
   */
  raiseLabel(join: (runLabelId: string) => Promise<string>): void;
}

export interface ApprovalRequest {
  source: ApprovalRecord['source'];
  serverLabel: string | null;
  toolName: string;
  /** JSON text of the arguments, as the model produced them. */
  arguments: string;
  reason: string | null;
  /** Canonical label of the run's context (classifies the audit entries). */
  label: string;
}

export interface ApprovalOutcome {
  approvalId: string;
  approved: boolean;
  decidedBy: string | null;
  reason: string | null;
}

/** The audit dependency: anything with `append` (src/audit's AuditLog fits). */
export interface AuditAppender {
  append(entry: AuditEntry): Promise<unknown>;
}

/**
 * The journal a run handler works through. Handlers are re-executed from the top on every resume, so they
 * must call `step`/`approval` in the same order given the same recorded results: a step that completed
 * returns its recorded output without running again; the first step that did not complete runs for real.
 */
export interface RunContext {
  readonly run: RunRecord;
  /** Aborted when the run is cancelled or this worker lost the run. */
  readonly signal: AbortSignal;
  /** The run's current label id (null only on a legacy row the handler has not labelled yet). */
  readonly labelId: string | null;
  /**
   * Sets the run's label; the handler passes one dominating the current label (labels only rise, with the
   * turn's high-water mark). Steps, events and approvals written from now on carry it; earlier ones keep theirs.
   */
  relabel(labelId: string): Promise<void>;
  step<T>(kind: StepKind, name: string, input: unknown, body: (step: StepHandle) => Promise<T>): Promise<T>;
  /** An `approval_wait` step: returns the decision, or parks the run (`requires_action`) until there is one. */
  approval(request: ApprovalRequest): Promise<ApprovalOutcome>;
  /** Records an SSE event for replay; events already recorded by an earlier execution are not repeated. */
  emit(type: string, data: unknown): Promise<void>;
}

export interface RunContextOptions {
  store: Store;
  run: RunRecord;
  signal: AbortSignal;
  /** The principal the run acts for (recorded as the approval's requester). */
  principal: string;
  audit?: AuditAppender | undefined;
  /** Events recorded before this execution started (run.next_event_seq at load). */
  recordedEvents: number;
  onEvent?: ((seq: number, type: string, data: unknown) => void) | undefined;
}

export function createRunContext(options: RunContextOptions): RunContext {
  const { store, run, signal } = options;
  let nextIndex = 0;
  let emitted = 0;
  let labelId = run.labelId;
  // Label changes run one at a time: a raise computed from the current label is never overwritten by one
  // computed from an older label.
  let labelChanges: Promise<unknown> = Promise.resolve();
  const serialLabel = <T>(fn: () => Promise<T>): Promise<T> => {
    const next = labelChanges.then(fn);
    labelChanges = next.catch(() => undefined);
    return next;
  };
  // Content is never written unlabelled: a legacy run must be labelled by its handler before its first step.
  const currentLabel = (): string => {
    if (labelId === null) throw new Error(`run ${run.id} has no label yet; its handler must set one first`);
    return labelId;
  };

  // A safe point: between steps, never inside one. Cancellation is read from the store so a cancel sent to
  // any node reaches the worker on any other node.
  const safePoint = async () => {
    if (signal.aborted) throw abortInterrupt(signal);
    const current = await store.runs.byId(run.id);
    if (current?.cancelRequestedAt != null) throw new RunInterrupt('cancelled', 'cancel requested');
  };

  /** Completes a step under a raised label, with the run raised to it in the same transaction. */
  const completeRaised = (
    index: number,
    rowLabel: string | null,
    output: unknown,
    join: (runLabelId: string) => Promise<string>,
  ) =>
    serialLabel(async () => {
      // Joined outside the transaction (the catalogue write goes through the root store, which on SQLite
      // would wait for the transaction's connection); the serial queue keeps the run's label from moving.
      const to = await join(currentLabel());
      if (to === rowLabel && to === labelId) {
        await store.runSteps.finish(run.id, index, { status: 'completed', output });
        return;
      }
      await store.transaction(async (tx) => {
        await tx.runSteps.finish(run.id, index, { status: 'completed', output, labelId: to });
        if (to !== labelId) await tx.runs.relabel(run.id, to);
      });
      labelId = to;
    });

  return {
    run,
    signal,
    get labelId() {
      return labelId;
    },
    relabel: (next) =>
      serialLabel(async () => {
        if (next === labelId) return;
        await store.runs.relabel(run.id, next);
        labelId = next;
      }),
    async step(kind, name, input, body) {
      const index = nextIndex++;
      const recorded = await store.runSteps.get(run.id, index);
      if (recorded?.status === 'completed') return recorded.output as Awaited<ReturnType<typeof body>>;
      await safePoint();
      const started = await store.runSteps.begin({
        runId: run.id,
        index,
        kind,
        name,
        idempotencyKey: `${run.id}:${index}`,
        labelId: currentLabel(),
        input,
      });
      if (started.kind !== kind || started.name !== name) {
        throw new Error(
          `run ${run.id} step ${index} replayed as ${kind}/${name} but was ${started.kind}/${started.name}`,
        );
      }
      let output: Awaited<ReturnType<typeof body>>;
      let join: ((runLabelId: string) => Promise<string>) | undefined;
      try {
        output = await body({
          index,
          idempotencyKey: started.idempotencyKey,
          attempt: started.attempts,
          signal,
          raiseLabel: (fn) => {
            join = fn;
          },
        });
      } catch (error) {
        if (signal.aborted) throw abortInterrupt(signal);
        await store.runSteps.finish(run.id, index, { status: 'failed', error: describe(error) });
        throw error;
      }
      if (join) await completeRaised(index, started.labelId, output ?? null, join);
      else await store.runSteps.finish(run.id, index, { status: 'completed', output: output ?? null });
      return output;
    },

    async approval(request) {
      const index = nextIndex++;
      const recorded = await store.runSteps.get(run.id, index);
      if (recorded?.status === 'completed') return recorded.output as ApprovalOutcome;
      await safePoint();
      await store.runSteps.begin({
        runId: run.id,
        index,
        kind: 'approval_wait',
        name: request.toolName,
        idempotencyKey: `${run.id}:${index}`,
        labelId: currentLabel(),
        input: { ...request },
      });
      const id = `mcpr_${randomUUID().replaceAll('-', '')}`;
      const stored = await store.approvals.request({
        id,
        tenantId: run.tenantId,
        runId: run.id,
        stepIndex: index,
        labelId: currentLabel(),
        source: request.source,
        serverLabel: request.serverLabel,
        toolName: request.toolName,
        arguments: request.arguments,
        reason: request.reason,
        requestedBy: options.principal,
        createdAt: Date.now(),
      });
      if (stored.id === id) {
        await options.audit?.append({
          type: 'approval.request',
          time: stored.createdAt,
          tenant: run.tenantId,
          principal: options.principal,
          objectId: stored.id,
          label: request.label,
          rule: `${request.source}.require_approval`,
          detail: { run: run.id, tool: request.toolName, server: request.serverLabel ?? null },
        });
      }
      if (stored.status === 'pending') throw new RunInterrupt('suspended', stored.id);
      const outcome: ApprovalOutcome = {
        approvalId: stored.id,
        approved: stored.status === 'approved',
        decidedBy: stored.decidedBy,
        reason: stored.decisionReason,
      };
      await store.runSteps.finish(run.id, index, { status: 'completed', output: outcome });
      return outcome;
    },

    async emit(type, data) {
      const ordinal = emitted++;
      if (ordinal < options.recordedEvents) return;
      const seq = await store.runs.appendEvent(run.id, type, data);
      options.onEvent?.(seq, type, data);
    },
  };
}

const abortInterrupt = (signal: AbortSignal): RunInterrupt =>
  signal.reason instanceof RunInterrupt ? signal.reason : new RunInterrupt('cancelled', 'aborted');

const describe = (error: unknown): string =>
  (error instanceof Error ? error.message : String(error)).slice(0, 2000);
