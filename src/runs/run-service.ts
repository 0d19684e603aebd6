import type { Store } from '../store/store.js';
import type { Logger } from '../telemetry/logger.js';
import type { AuditAppender } from './run-context.js';
import {
  cancelRun,
  decideApproval,
  RUN_JOB,
  submitRun,
  type ApprovalDecision,
  type NewRun,
} from './run-commands.js';
import { executeRun, type RunHandler } from './run-engine.js';
import { followRunEvents, RunEventBus } from './run-events.js';
import { createWorkerPool, type JobHandler, type WorkerPool } from './worker.js';

export interface RunServiceOptions {
  store: Store;
  /** Run handlers by run kind (the runtime registers `response`). */
  handlers: Readonly<Record<string, RunHandler>>;
  /** Other job kinds this node's workers execute. */
  jobHandlers?: Readonly<Record<string, JobHandler>>;
  audit?: AuditAppender | undefined;
  logger?: Logger | undefined;
  concurrency?: number;
  leaseMs?: number;
  pollMs?: number;
  cancelPollMs?: number;
}

/** Durable runs on one node: submit, cancel, approve, follow events; the worker pool executes them. */
// Created and started in src/app/runs-wiring.ts (services); the `response` handler is response-run.ts and the
// Responses API's side is response-runs.ts. See docs/runs.md.
export interface RunService {
  readonly pool: WorkerPool;
  readonly bus: RunEventBus;
  submit(run: NewRun): Promise<void>;
  cancel: (tenantId: string, runId: string) => ReturnType<typeof cancelRun>;
  decide(decision: ApprovalDecision): Promise<void>;
  follow(runId: string, after: number, signal?: AbortSignal): ReturnType<typeof followRunEvents>;
  start(): Promise<void>;
  stop(drainMs?: number): Promise<void>;
}

export function createRunService(options: RunServiceOptions): RunService {
  const { store } = options;
  const bus = new RunEventBus();
  const engine = {
    store,
    handlers: options.handlers,
    audit: options.audit,
    logger: options.logger,
    cancelPollMs: options.cancelPollMs ?? 250,
    onEvent: (runId: string) => bus.publish(runId),
  };
  const runJob: JobHandler = async (job, ctx) => {
    const { runId } = job.payload as { runId: string };
    await executeRun(engine, runId, ctx);
    bus.publish(runId);
  };
  const pool = createWorkerPool({
    store,
    handlers: { ...options.jobHandlers, [RUN_JOB]: runJob },
    concurrency: options.concurrency ?? 4,
    leaseMs: options.leaseMs ?? 30_000,
    pollMs: options.pollMs ?? 250,
    logger: options.logger,
  });
  return {
    pool,
    bus,
    async submit(run) {
      await submitRun(store, run);
      pool.notify();
    },
    async cancel(tenantId, runId) {
      const run = await cancelRun(store, tenantId, runId);
      bus.publish(runId);
      return run;
    },
    async decide(decision) {
      await decideApproval(store, options.audit, decision);
      pool.notify();
    },
    follow: (runId, after, signal) => followRunEvents(store, bus, runId, after, signal ? { signal } : {}),
    start: () => pool.start(),
    stop: (drainMs) => pool.stop(drainMs),
  };
}
