import type { MemoryService } from './memory-service.js';

export interface MemoryWorker {
  /** Runs due jobs now (tests and the CLI use it instead of waiting for the timer). */
  drain(): Promise<{ done: number; failed: number }>;
  /** Runs the retention sweep now (the timer runs it every `retentionIntervalMs`). */
  sweep(): Promise<{ tenants: number; records: number; sources: number }>;
  /** Stops the timers and waits for a running drain or sweep to finish. */
  stop(): Promise<void>;
}

/**
 * The background memory worker: polls the durable extraction-job queue every `intervalMs` and applies
 * every tenant's retention policy every `retentionIntervalMs`. Jobs left `running` by a crashed process are
 * put back first. One drain and one sweep at a time per process; the queue's exclusive claim keeps several
 * processes from running the same job, and a sweep is idempotent.
 */
export function startMemoryWorker(
  service: MemoryService,
  options: { intervalMs: number; retentionIntervalMs: number; onError: (error: unknown) => void },
): MemoryWorker {
  let running: Promise<{ done: number; failed: number }> | undefined;
  let sweeping: Promise<{ tenants: number; records: number; sources: number }> | undefined;
  let stopped = false;
  const drain = () => {
    running ??= service.drainJobs().finally(() => (running = undefined));
    return running;
  };
  const sweep = () => {
    sweeping ??= service.sweepRetention().finally(() => (sweeping = undefined));
    return sweeping;
  };
  const requeued = service.requeueStale().catch(options.onError);
  const timer = setInterval(() => {
    if (!stopped) void requeued.then(drain).catch(options.onError);
  }, options.intervalMs);
  timer.unref();
  const retentionTimer = setInterval(() => {
    if (!stopped) void sweep().catch(options.onError);
  }, options.retentionIntervalMs);
  retentionTimer.unref();
  return {
    drain: async () => {
      await requeued;
      return drain();
    },
    sweep,
    async stop() {
      stopped = true;
      clearInterval(timer);
      clearInterval(retentionTimer);
      await running?.catch(() => undefined);
      await sweeping?.catch(() => undefined);
    },
  };
}
