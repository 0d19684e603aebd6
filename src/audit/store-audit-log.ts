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
   * Commit every batch so that it survives a power cut (SQLite: synchronous=FULL for the batch; the store's
   * default NORMAL only survives a killed process). Default true: the log is the evidence, and group commit
   * shares one fsync among all appends of a batch.
   */
  durable?: boolean;
  logger?: WarnLogger;
  now?: () => number;
}

interface Pending {
  text: string;
  resolve: (receipt: AppendReceipt) => void;
  reject: (error: unknown) => void;
}

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
 * processes on one database. A batch that fails rejects every append in it and writes nothing of it.
 */
export function createStoreAuditLog(options: StoreAuditLogOptions): AuditLog {
  const { store, signingKey, sink } = options;
  const maxBatch = options.maxBatch ?? 4096;
  // UNFINISHED: with `durable` the batch's fsync runs on the main thread (better-sqlite3 is synchronous), so 64
  // writers that each await their append reach ~40k appends/s on a quiet machine, not the 50k target. The next
  // step is a pipelined flush: commit with NORMAL, fsync the WAL off the main thread and resolve the batch after
  // it, while the next batch commits (see docs/benchmarks.md, "Audit").
  const durable = options.durable ?? true;
  const now = options.now ?? Date.now;
  let queue: Pending[] = [];
  let draining: Promise<void> | undefined;
  let closed = false;

  async function commit(texts: readonly string[]): Promise<AuditEntryRow[]> {
    return store.transaction(
      async (tx) => {
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
      },
      { durable },
    );
  }

  async function drain(): Promise<void> {
    // One macrotask turn lets appends issued in the same tick (and writers just released by the last batch) join.
    await new Promise((resolve) => setImmediate(resolve));
    while (queue.length > 0) {
      const batch = queue.slice(0, maxBatch);
      queue = queue.slice(batch.length);
      try {
        const rows = await commit(batch.map((p) => p.text));
        batch.forEach((p, i) => {
          const row = rows[i] as AuditEntryRow;
          p.resolve({ index: row.index, leafHash: row.leafHash });
        });
        sink?.enqueue(rows.map((r) => exportLine(r.index, r.leafHash, r.entry)));
      } catch (cause) {
        const error = new EnclaveError(
          'audit_unavailable',
          'The audit log could not record this operation, so it was not performed.',
          { cause },
        );
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
      const frontier = frontierOf(await store.audit.head());
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
    checkpoint,
    latestCheckpoint: async () => store.audit.latestCheckpoint(),
    async close() {
      closed = true;
      if (timer) clearInterval(timer);
      while (draining) await draining;
      await sink?.close();
    },
  };
}

async function checkpointAt(repo: AuditRepo, treeSize: number): Promise<SignedCheckpoint | undefined> {
  const latest = await repo.latestCheckpoint();
  return latest?.treeSize === treeSize ? latest : undefined;
}
