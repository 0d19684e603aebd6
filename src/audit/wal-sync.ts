import { open, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';

/** Flushes a file to stable storage; injectable so tests can record the order or inject a failure. */
export type FsyncFile = (handle: FileHandle) => Promise<void>;

export interface WalSync {
  /**
   * Resolves after an fsync of the WAL that *started after this call*, so everything written to the file
   * before the call is on stable storage. Rejects, now and forever after, once any fsync has failed.
   */
  flush(): Promise<void>;
  /** True while an fsync runs. */
  readonly busy: boolean;
  /** Moving average of how long an fsync takes, in milliseconds (0 before the first). */
  readonly fsyncMs: number;
  /** Waits for the fsyncs in flight, then closes the file. */
  close(): Promise<void>;
}

interface Round {
  promise: Promise<void>;
  resolve: () => void;
  reject: (error: unknown) => void;
}

function round(): Round {
  let resolve!: () => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // A round nobody waits on (close) must not become an unhandled rejection; waiters still see the error.
  promise.catch(() => undefined);
  return { promise, resolve, reject };
}

/**
 * Group fsync of a SQLite WAL file through libuv's threadpool, off the main thread. A flush starts an fsync at
 * once when fewer than `slots` run; otherwise it waits for the next one, which starts when a slot frees and
 * covers every request made meanwhile (one fsync for all of them). Two slots let a batch's fsync start right
 * after its commit even while the previous batch's fsync is still running (the disk overlaps them).
 *
 * Rounds settle in the order they started: a round resolves only after every earlier round resolved, as a later
 * commit's WAL frames are only recoverable behind the earlier ones. Each slot has its own descriptor, opened
 * once and kept: Linux reports a writeback error to every descriptor open when it happened (on its next fsync),
 * so a concurrent fsync cannot swallow an error that belongs to another, and a descriptor opened later could.
 *
 * The first fsync error is final. After a failed fsync the kernel may have dropped the dirty pages and report
 * success next time, so nothing written before it can be trusted to be on disk: every later flush rejects.
 */
export function createWalSync(walPath: string, fsync: FsyncFile = (h) => h.sync(), slots = 2): WalSync {
  const handles: Promise<FileHandle>[] = [];
  const free = Array.from({ length: slots }, (_, i) => slots - 1 - i);
  const inFlight = new Set<Promise<void>>();
  let next: Round | undefined;
  // Settles when every round started so far has; a failed round fails every later one with its error.
  let settled: Promise<void> = Promise.resolve();
  let failure: unknown;
  let hasFailed = false;
  let fsyncMs = 0;

  let directorySynced: Promise<void> | undefined;
  function opened(slot: number): Promise<FileHandle> {
    // SQLite makes a new WAL's directory entry durable on its first sync (unixOpen's syncDir); so do we, once,
    // before the first fsync of any slot counts.
    directorySynced ??= (async () => {
      const dir = await open(dirname(walPath), 'r');
      try {
        await fsync(dir);
      } finally {
        await dir.close();
      }
    })();
    return (handles[slot] ??= directorySynced.then(() => open(walPath, 'r')));
  }

  function start(r: Round): void {
    const slot = free.pop() as number;
    const own = (async () => {
      try {
        const file = await opened(slot);
        const started = performance.now();
        await fsync(file);
        const took = performance.now() - started;
        fsyncMs = fsyncMs === 0 ? took : 0.8 * fsyncMs + 0.2 * took;
      } catch (error) {
        if (!hasFailed) failure = error;
        hasFailed = true;
        throw error;
      }
    })();
    const previous = settled;
    settled = previous.then(() => own);
    settled.then(r.resolve, r.reject);
    const running = own
      .catch(() => undefined)
      .finally(() => {
        inFlight.delete(running);
        free.push(slot);
        const queued = next;
        next = undefined;
        if (!queued) return;
        if (hasFailed) queued.reject(failure);
        else start(queued);
      });
    inFlight.add(running);
  }

  return {
    get busy() {
      return inFlight.size > 0;
    },
    get fsyncMs() {
      return fsyncMs;
    },
    flush() {
      if (hasFailed) return Promise.reject(failure);
      if (free.length === 0) {
        next ??= round();
        return next.promise;
      }
      const r = round();
      start(r);
      return r.promise;
    },
    async close() {
      while (inFlight.size > 0) await Promise.all(inFlight);
      for (const handle of handles.filter(Boolean)) await (await handle.catch(() => undefined))?.close();
    },
  };
}
