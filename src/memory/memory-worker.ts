import type { MemoryService } from './memory-service.js';

export interface MemoryWorker {
  /** Runs due jobs now (tests and the CLI use it instead of waiting for the timer). */
  drain(): Promise<{ done: number; failed: number }>;
  /** Stops the timer and waits for a running drain to finish. */
  stop(): Promise<void>;
}

/**
 * The background extraction worker: polls the durable job queue every `intervalMs`. Jobs left `running` by
 * a crashed process are put back first. One drain at a time per process; the queue's exclusive claim keeps
 * several processes from running the same job.
 */
export function startMemoryWorker(
  service: MemoryService,
  options: { intervalMs: number; onError: (error: unknown) => void },
): MemoryWorker {
  let running: Promise<{ done: number; failed: number }> | undefined;
  let stopped = false;
  const drain = () => {
    running ??= service.drainJobs().finally(() => (running = undefined));
    return running;
  };
  const requeued = service.requeueStale().catch(options.onError);
  const timer = setInterval(() => {
    if (!stopped) void requeued.then(drain).catch(options.onError);
  }, options.intervalMs);
  timer.unref();
  return {
    drain: async () => {
      await requeued;
      return drain();
    },
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running?.catch(() => undefined);
    },
  };
}
