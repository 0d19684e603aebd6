import type { AuditRepo, AuditEntryRow } from '../store/repos/audit-repo.js';
import type { Store } from '../store/store.js';
import { EnclaveError } from '../errors/index.js';
import { canonicalEntry, leafData, type AuditEntry } from './audit-entry.js';
import type { AppendReceipt, AuditLog } from './audit-log.js';
import type { AuditSink } from './audit-sink.js';
import { signCheckpoint, type SignedCheckpoint } from './checkpoint.js';
import { exportLine } from './export-log.js';
import { MerkleFrontier } from './merkle-frontier.js';
import { leafHash, toHex } from './merkle-hash.js';
import type { SigningKey } from './signing-key.js';
import { createWalSync, type FsyncFile, type WalSync } from './wal-sync.js';

export interface WarnLogger {
  warn(detail: object, message: string): void;
}

export interface StoreAuditLogOptions {
  store: Store;
  signingKey: SigningKey;
  /** Receives committed entries as export lines, off the request path. */
  sink?: AuditSink | undefined;
  /** Milliseconds between automatic checkpoints; 0 turns them off. */
  checkpointIntervalMs?: number;
  /** Most entries written by one transaction. */
  maxBatch?: number;
  /**
   * Resolve an append only once its entry survives a power cut. SQLite in WAL mode: the batch commits with the
   * store's NORMAL and the WAL is then fsynced off the main thread (pipelined: the next batch commits meanwhile);
   * other engines commit the batch in a durable transaction. Default true: the log is the evidence, and group
   * commit shares one fsync among all appends of a batch. See docs/audit.md, "Durability".
   */
  durable?: boolean;
  /** Replaces the WAL fsync (tests record its order or make it fail). */
  fsync?: FsyncFile | undefined;
  logger?: WarnLogger;
  now?: () => number;
}

interface Pending {
  text: string;
  resolve: (receipt: AppendReceipt) => void;
  reject: (error: unknown) => void;
}

// Fewest appends worth a transaction of their own when a queue is split (see batchSize).
const minCohort = 32;

/** Reads the head row into a frontier; the head must agree with itself or the log is not appended to. */
export function frontierOf(head: { treeSize: number; frontier: string }): MerkleFrontier {
  const frontier = MerkleFrontier.fromState(JSON.parse(head.frontier) as { size: number; nodes: string[] });
  if (frontier.size !== head.treeSize) {
    throw new EnclaveError(
      'audit_unavailable',
      'The audit tree head disagrees with itself; run `enclave audit verify`.',
    );
  }
  return frontier;
}

/**
 * The store-backed audit log with group commit: appends that arrive while a batch is being written queue up and
 * go into the next transaction together, so a durable commit (one fsync) is shared by many requests. Inside the
 * transaction the head row is locked first, which gives the batch the next indexes even with several server
 * processes on one database. A batch whose transaction fails rejects every append in it and writes nothing of
 * it; a failed WAL fsync rejects its batch and every later one and stops the log (docs/audit.md, "Durability").
 */
export function createStoreAuditLog(options: StoreAuditLogOptions): AuditLog {
  const { store, signingKey, sink } = options;
  const maxBatch = options.maxBatch ?? 4096;
  const durable = options.durable ?? true;
  const now = options.now ?? Date.now;
  const queue: Pending[] = [];
  let draining: Promise<void> | undefined;
  let closed = false;
  // Set once a WAL fsync failed: what reached the disk is unknown, so the log takes no more appends until it is
  // reopened (SQLite then recovers from what the disk really holds).
  let stopped = false;
  // Batches committed and waiting for the fsync that makes them durable; close() waits for them.
  const flushing = new Set<Promise<void>>();
  let walSync: Promise<WalSync | undefined> | undefined;

  /** The WAL to fsync after each commit when the store's commits do not fsync by themselves (decided once). */
  function walSyncOf(): Promise<WalSync | undefined> {
    if (!durable) return Promise.resolve(undefined);
    walSync ??= store.audit.walFile().then(
      (file) => (file === undefined ? undefined : createWalSync(file, options.fsync)),
      (error: unknown) => {
        walSync = undefined;
        throw error;
      },
    );
    return walSync;
  }

  const unavailable = (cause: unknown) =>
    new EnclaveError(
      'audit_unavailable',
      'The audit log could not record this operation, so it was not performed.',
      {
        cause,
      },
    );
  const stoppedError = () =>
    new EnclaveError(
      'audit_unavailable',
      'The audit log stopped after a failed disk flush; check the disk, then restart Enclave to reopen the log.',
    );

  /** A failed WAL fsync: what reached the disk is unknown, so the log stops (see `stopped`). */
  function fsyncFailed(cause: unknown): EnclaveError {
    stopped = true;
    options.logger?.warn({ err: cause }, 'audit WAL fsync failed; the audit log takes no more appends');
    return unavailable(cause);
  }

  /** Durable rows: handed to the sink, and their receipts. */
  function published(rows: readonly AuditEntryRow[]): AppendReceipt[] {
    sink?.enqueue(rows.map((r) => exportLine(r.index, r.leafHash, r.entry)));
    return rows.map((r) => ({ index: r.index, leafHash: r.leafHash }));
  }

  function settle(batch: readonly Pending[], rows: readonly AuditEntryRow[]): void {
    const receipts = published(rows);
    batch.forEach((p, i) => p.resolve(receipts[i] as AppendReceipt));
  }

  /** Takes the next indexes under the head's lock and writes the entries and the new head, inside `tx`. */
  async function writeEntries(tx: Store, texts: readonly string[]): Promise<AuditEntryRow[]> {
    const frontier = frontierOf(await tx.audit.lockHead());
    const createdAt = now();
    const rows = texts.map((entry) => {
      const index = frontier.size;
      const leaf = leafHash(leafData(index, entry));
      frontier.append(leaf);
      return { index, leafHash: toHex(leaf), entry, createdAt };
    });
    await tx.audit.insertEntries(rows);
    await tx.audit.setHead({ treeSize: frontier.size, frontier: JSON.stringify(frontier.toState()) });
    return rows;
  }

  async function commit(texts: readonly string[], durableTransaction: boolean): Promise<AuditEntryRow[]> {
    return store.transaction((tx) => writeEntries(tx, texts), { durable: durableTransaction });
  }

  /** After the commit of rows written by appendWithin: waits for the WAL fsync, then hands them to the sink. */
  async function madeDurable(rows: readonly AuditEntryRow[]): Promise<AppendReceipt[]> {
    const sync = await walSyncOf().catch((cause: unknown) => {
      throw unavailable(cause);
    });
    if (sync) {
      if (stopped) throw stoppedError();
      await sync.flush().catch((cause: unknown) => {
        throw fsyncFailed(cause);
      });
    }
    return published(rows);
  }

  /**
   * Pipelined durable commit: commit with the store's NORMAL (no fsync on the main thread), then resolve the
   * batch after a WAL fsync that started after the commit returned. While that fsync runs on libuv's threadpool
   * the next batch commits and starts its own (two at most; a third waits for the next one, which covers every
   * batch committed meanwhile). Batches resolve in commit order.
   */
  function afterFlush(sync: WalSync, batch: readonly Pending[], rows: readonly AuditEntryRow[]): void {
    const flushed = sync.flush().then(
      () => settle(batch, rows),
      (cause: unknown) => {
        const error = fsyncFailed(cause);
        for (const p of batch) p.reject(error);
      },
    );
    flushing.add(flushed);
    void flushed.finally(() => flushing.delete(flushed));
  }

  // Moving average of a commit's wall time per entry, in milliseconds (see batchSize).
  let commitMsPerEntry = 0;

  /**
   * How many queued appends the next transaction takes. When no fsync runs and an fsync lasts longer than
   * committing the whole queue twice (a slow or busy disk), only the first half is committed, so its fsync starts
   * while the second half commits; the halves then stay apart as two cohorts of writers, each committing while
   * the other's fsync runs. With a fast disk one batch is better: splitting doubles the fsyncs and per-batch
   * work, and the main thread has little fsync time to hide.
   */
  function batchSize(sync: WalSync | undefined): number {
    if (!sync || sync.busy || queue.length < 2 * minCohort) return maxBatch;
    if (sync.fsyncMs <= 2 * commitMsPerEntry * queue.length) return maxBatch;
    return Math.min(maxBatch, Math.ceil(queue.length / 2));
  }

  async function drain(): Promise<void> {
    // One macrotask turn lets appends issued in the same tick (and writers just released by the last batch) join.
    await new Promise((resolve) => setImmediate(resolve));
    while (queue.length > 0) {
      let sync: WalSync | undefined;
      try {
        sync = await walSyncOf();
      } catch (cause) {
        for (const p of queue.splice(0, maxBatch)) p.reject(unavailable(cause));
        continue;
      }
      const batch = queue.splice(0, batchSize(sync));
      if (stopped) {
        for (const p of batch) p.reject(stoppedError());
        continue;
      }
      try {
        const started = performance.now();
        const rows = await commit(
          batch.map((p) => p.text),
          durable && !sync,
        );
        const perEntry = (performance.now() - started) / batch.length;
        commitMsPerEntry = commitMsPerEntry === 0 ? perEntry : 0.8 * commitMsPerEntry + 0.2 * perEntry;
        if (sync) afterFlush(sync, batch, rows);
        else settle(batch, rows);
      } catch (cause) {
        // The transaction rolled back: nothing of the batch was written and the head is unchanged, so later
        // batches may still be appended.
        const error = unavailable(cause);
        for (const p of batch) p.reject(error);
      }
    }
  }

  function kick(): void {
    if (draining) return;
    draining = drain().finally(() => {
      draining = undefined;
      if (queue.length > 0) kick();
    });
  }

  async function checkpoint(): Promise<SignedCheckpoint> {
    try {
      if (stopped) throw stoppedError();
      const frontier = frontierOf(await store.audit.head());
      // Sign only what survives a power cut: the head just read may hold batches committed but not yet fsynced,
      // and a signed tree the disk then lost would look like a forked log.
      const sync = await walSyncOf();
      await sync?.flush().catch((cause: unknown) => {
        throw fsyncFailed(cause);
      });
      const latest = await store.audit.latestCheckpoint();
      if (latest && latest.treeSize === frontier.size) return latest;
      const signed = signCheckpoint(signingKey, {
        treeSize: frontier.size,
        rootHash: toHex(frontier.root()),
        time: now(),
      });
      await store.audit.insertCheckpoint(signed);
      // Another process may have checkpointed the same size first; the stored one is the one to hand out.
      return (await checkpointAt(store.audit, frontier.size)) ?? signed;
    } catch (cause) {
      if (cause instanceof EnclaveError) throw cause;
      throw new EnclaveError(
        'audit_unavailable',
        'Cannot write an audit checkpoint: the store is unavailable.',
        { cause },
      );
    }
  }

  const interval = options.checkpointIntervalMs ?? 0;
  const timer =
    interval > 0
      ? setInterval(() => {
          checkpoint().catch((error: unknown) =>
            options.logger?.warn({ err: error }, 'periodic audit checkpoint failed'),
          );
        }, interval)
      : undefined;
  timer?.unref();

  return {
    append(entry: AuditEntry): Promise<AppendReceipt> {
      if (closed) return Promise.reject(new EnclaveError('audit_unavailable', 'The audit log is closed.'));
      if (stopped) return Promise.reject(stoppedError());
      let text: string;
      try {
        text = canonicalEntry(entry);
      } catch (error) {
        return Promise.reject(error);
      }
      return new Promise<AppendReceipt>((resolve, reject) => {
        queue.push({ text, resolve, reject });
        kick();
      });
    },
    async appendWithin(tx: Store, entries: readonly AuditEntry[]) {
      if (closed) throw new EnclaveError('audit_unavailable', 'The audit log is closed.');
      if (stopped) throw stoppedError();
      const texts = entries.map(canonicalEntry);
      let rows: AuditEntryRow[];
      try {
        if (durable) await tx.audit.durableCommit();
        rows = await writeEntries(tx, texts);
      } catch (cause) {
        throw cause instanceof EnclaveError ? cause : unavailable(cause);
      }
      return () => madeDurable(rows);
    },
    checkpoint,
    latestCheckpoint: async () => store.audit.latestCheckpoint(),
    async close() {
      closed = true;
      if (timer) clearInterval(timer);
      while (draining) await draining;
      await Promise.all(flushing);
      await (await walSync?.catch(() => undefined))?.close();
      await sink?.close();
    },
  };
}

async function checkpointAt(repo: AuditRepo, treeSize: number): Promise<SignedCheckpoint | undefined> {
  const latest = await repo.latestCheckpoint();
  return latest?.treeSize === treeSize ? latest : undefined;
}
