import { EnclaveError, isEnclaveError } from '../errors/index.js';
import type { Store } from '../store/store.js';
import type { Logger } from '../telemetry/logger.js';
import { createRunContext, type AuditAppender, type RunContext } from './run-context.js';
import { RunInterrupt, isRunInterrupt } from './run-interrupt.js';
import { isFinal, sourcesOf } from './run-status.js';

/** Executes one kind of run. Returns the run's output (stored as JSON) and, optionally, a final status. */
export type RunHandler = (
  ctx: RunContext,
) => Promise<{ output: unknown; status?: 'completed' | 'incomplete' | 'failed' }>;

export interface RunEngineOptions {
  store: Store;
  handlers: Readonly<Record<string, RunHandler>>;
  audit?: AuditAppender | undefined;
  logger?: Logger | undefined;
  /** How often a running run looks for a cancel request (it is also checked at every step). */
  cancelPollMs?: number;
  /** Called for each event a run records (the API's live streams listen here). */
  onEvent?: ((runId: string, seq: number, type: string, data: unknown) => void) | undefined;
}

export type RunOutcome =
  'completed' | 'incomplete' | 'failed' | 'cancelled' | 'requires_action' | 'skipped' | 'lost';

/**
 * Runs (or resumes) one run to its next resting state. Transient failures are rethrown so the job queue
 * retries the run (completed steps are not repeated); a permanent failure (a 4xx EnclaveError, or the last
 * attempt) fails the run. `signal` aborts when the worker loses its lease: then nothing more is written.
 */
export async function executeRun(
  options: RunEngineOptions,
  runId: string,
  job: { signal: AbortSignal; lastAttempt: boolean },
): Promise<RunOutcome> {
  const { store } = options;
  const run = await store.runs.byId(runId);
  if (!run || isFinal(run.status)) return 'skipped';
  if (run.cancelRequestedAt !== null) return (await cancel(store, runId)) ? 'cancelled' : 'skipped';
  if (!(await store.runs.transition(runId, sourcesOf('in_progress'), 'in_progress'))) return 'skipped';
  const handler = options.handlers[run.kind];
  if (!handler) {
    await fail(store, runId, new EnclaveError('internal', `No handler for runs of kind '${run.kind}'.`));
    return 'failed';
  }

  const controller = new AbortController();
  const onJobAbort = () => controller.abort(new RunInterrupt('lease_lost', 'worker lost its lease'));
  job.signal.addEventListener('abort', onJobAbort, { once: true });
  const poll = setInterval(() => {
    store.runs
      .byId(runId)
      .then((r) => {
        if (r?.cancelRequestedAt != null) controller.abort(new RunInterrupt('cancelled', 'cancel requested'));
      })
      .catch(() => undefined);
  }, options.cancelPollMs ?? 250);
  poll.unref();

  const recordedEvents = await store.runs.events(runId, -1).then((e) => e.length);
  const ctx = createRunContext({
    store,
    run: { ...run, status: 'in_progress' },
    signal: controller.signal,
    principal: principalOf(run.input),
    audit: options.audit,
    recordedEvents,
    onEvent: options.onEvent && ((seq, type, data) => options.onEvent?.(runId, seq, type, data)),
  });
  try {
    const result = await handler(ctx);
    const status = result.status ?? 'completed';
    await store.runs.transition(runId, ['in_progress'], status, { output: result.output, completed: true });
    return status;
  } catch (error) {
    const interrupt = isRunInterrupt(error)
      ? error
      : controller.signal.aborted
        ? controller.signal.reason
        : undefined;
    if (isRunInterrupt(interrupt)) {
      if (interrupt.reason === 'lease_lost') return 'lost';
      if (interrupt.reason === 'cancelled') return (await cancel(store, runId)) ? 'cancelled' : 'skipped';
      await store.runs.transition(runId, ['in_progress'], 'requires_action');
      // The decision may have landed while the run was parking; then nobody else will requeue it.
      const approval = await store.approvals.byId(run.tenantId, interrupt.detail);
      if (approval && approval.status !== 'pending') return executeRun(options, runId, job);
      return 'requires_action';
    }
    if (!job.lastAttempt && !isPermanent(error)) throw error;
    options.logger?.warn({ runId, err: error }, 'run failed');
    await fail(store, runId, error);
    return 'failed';
  } finally {
    clearInterval(poll);
    job.signal.removeEventListener('abort', onJobAbort);
  }
}

const isPermanent = (error: unknown): boolean => isEnclaveError(error) && error.status < 500;

const cancel = (store: Store, runId: string) =>
  store.runs.transition(runId, sourcesOf('cancelled'), 'cancelled', { completed: true });

async function fail(store: Store, runId: string, error: unknown): Promise<void> {
  // Only an EnclaveError's message is meant for clients; anything else becomes a generic server error.
  const body = isEnclaveError(error)
    ? error.toBody().error
    : { message: 'The run failed on the server.', type: 'server_error', param: null, code: 'internal' };
  await store.runs.transition(runId, sourcesOf('failed'), 'failed', { error: body, completed: true });
}

const principalOf = (input: unknown): string => {
  const p = (input as { principal?: unknown } | null)?.principal;
  return typeof p === 'string' && p.length > 0 ? p : 'system';
};
