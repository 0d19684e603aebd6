import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Job, JobLease } from '../store/repos/job-repo.js';
import type { Store } from '../store/store.js';
import type { Logger } from '../telemetry/logger.js';

/** Runs one job. Throwing means "try again later" (or fail, on the last attempt). */
export type JobHandler = (job: Job, ctx: { signal: AbortSignal; lastAttempt: boolean }) => Promise<void>;

export interface WorkerPoolOptions {
  store: Store;
  handlers: Readonly<Record<string, JobHandler>>;
  /** Jobs run at once by this process. */
  concurrency?: number;
  /** How long a claim stays valid without a heartbeat; a dead worker's jobs are reclaimed after this. */
  leaseMs?: number;
  heartbeatMs?: number;
  /** Idle wait between claims when the queue was empty. */
  pollMs?: number;
  /** Delay before retry n (1-based). */
  backoffMs?: (attempt: number) => number;
  logger?: Logger | undefined;
  /** Stable owner id; by default `<host>/<pid>/<random>` so dead local owners can be recognised. */
  owner?: string;
}

export interface WorkerPool {
  readonly owner: string;
  start(): Promise<void>;
  /** Wakes the claim loop now (a job was just enqueued in this process). */
  notify(): void;
  /** Stops claiming, waits up to `drainMs` for running jobs, then gives the rest back to the queue. */
  stop(drainMs?: number): Promise<void>;
  active(): number;
}

export function createWorkerPool(options: WorkerPoolOptions): WorkerPool {
  const { store } = options;
  const concurrency = options.concurrency ?? 4;
  const leaseMs = options.leaseMs ?? 30_000;
  const heartbeatMs = options.heartbeatMs ?? Math.max(50, Math.floor(leaseMs / 3));
  const pollMs = options.pollMs ?? 250;
  const backoff = options.backoffMs ?? ((n: number) => Math.min(30_000, 500 * 2 ** (n - 1)));
  const owner = options.owner ?? `${hostname()}/${process.pid}/${randomBytes(4).toString('hex')}`;
  const running = new Map<string, { lease: JobLease; controller: AbortController; done: Promise<void> }>();
  let stopped = true;
  let wake: (() => void) | undefined;
  let loop: Promise<void> | undefined;
  let heartbeat: NodeJS.Timeout | undefined;

  const runJob = async (job: Job) => {
    const lease: JobLease = { id: job.id, owner, attempt: job.attempts };
    const controller = new AbortController();
    const handler = options.handlers[job.kind];
    const done = (async () => {
      try {
        if (!handler) throw new Error(`no handler for job kind '${job.kind}'`);
        await handler(job, { signal: controller.signal, lastAttempt: job.attempts >= job.maxAttempts });
        if (!controller.signal.aborted) await store.jobs.complete(lease);
      } catch (error) {
        if (controller.signal.aborted) return; // lease lost or pool stopped: the job belongs to someone else now
        const message = error instanceof Error ? error.message : String(error);
        options.logger?.warn(
          { job: job.id, kind: job.kind, attempt: job.attempts, err: message },
          'job failed',
        );
        await store.jobs
          .retry(lease, message.slice(0, 2000), Date.now() + backoff(job.attempts))
          .catch(() => undefined);
      } finally {
        running.delete(job.id);
        wake?.();
      }
    })();
    running.set(job.id, { lease, controller, done });
  };

  const beat = async () => {
    for (const { lease, controller } of running.values()) {
      const held = await store.jobs.heartbeat(lease, leaseMs).catch(() => true);
      if (!held) controller.abort(new Error('lease lost'));
    }
  };

  const claimLoop = async () => {
    while (!stopped) {
      const free = concurrency - running.size;
      let claimed: Job[] = [];
      if (free > 0) {
        try {
          claimed = await store.jobs.claim(owner, free, leaseMs);
        } catch (error) {
          options.logger?.warn(
            { err: error instanceof Error ? error.message : String(error) },
            'job claim failed',
          );
        }
        for (const job of claimed) await runJob(job);
      }
      if (claimed.length === 0 || running.size >= concurrency) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, pollMs);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        wake = undefined;
      }
    }
  };

  return {
    owner,
    async start() {
      if (!stopped) return;
      stopped = false;
      await reclaimDeadLocalOwners(store, owner, options.logger);
      heartbeat = setInterval(() => void beat(), heartbeatMs);
      loop = claimLoop();
    },
    notify: () => wake?.(),
    async stop(drainMs = 5_000) {
      stopped = true;
      wake?.();
      if (heartbeat) clearInterval(heartbeat);
      await loop;
      const all = Promise.all([...running.values()].map((r) => r.done));
      const timedOut = await Promise.race([all.then(() => false), sleep(drainMs).then(() => true)]);
      if (timedOut) {
        for (const r of running.values()) r.controller.abort(new Error('worker stopping'));
        await store.jobs.expireLeasesOf([owner]).catch(() => undefined);
      }
    },
    active: () => running.size,
  };
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

/**
 * After a kill -9 the dead process's leases would block its runs until they expire. Owners on this host
 * whose process no longer exists are certainly dead, so their leases are expired at once (a worker on
 * another host is only ever presumed dead by lease expiry).
 */
export async function reclaimDeadLocalOwners(store: Store, self: string, logger?: Logger): Promise<number> {
  const host = hostname();
  const dead = (await store.jobs.runningOwners()).filter((o) => {
    const [h, pid] = o.split('/');
    if (o === self || h !== host || !pid || !/^\d+$/.test(pid)) return false;
    return !processAlive(Number(pid));
  });
  if (dead.length === 0) return 0;
  const n = await store.jobs.expireLeasesOf(dead);
  logger?.info({ owners: dead, jobs: n }, 'reclaimed jobs of dead local workers');
  return n;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
