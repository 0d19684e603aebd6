import type { AuditEntry, AuditLog } from '../audit/index.js';
import type { Store } from '../store/store.js';

/** A row that must be stored exactly when its audit entry is (a safety verdict and its review item). */
export type RecordWrite = (tx: Store) => Promise<void>;

/**
 * The audit entries of one turn, committed with the turn's own writes. An append awaited on its own costs a
 * transaction and, when durable, a WAL fsync; a turn records several entries (the chain read, the input
 * verdict, the model call, the output verdict, the write decision). Instead they are held here with the rows
 * that go with them and committed in one transaction at the turn's next effect:
 * - `commit()` before any model is contacted: the entries are committed (a killed process keeps them), their
 *   fsync runs while the model answers;
 * - `commitWith(work)` for the turn's write: the turn's rows and its entries commit together or not at all;
 * - `settle()` before an answer or a refusal goes out: everything is durable (survives a power cut).
 * Fail-closed is unchanged: no model is contacted before its entries are committed, nothing is answered or
 * acknowledged as stored before they are durable, and a failure to record fails the turn (`audit_unavailable`).
 */
export class PendingAudit {
  private held: { entry: AuditEntry; write: RecordWrite | undefined }[] = [];
  // Appends already issued to the log on their own (the request's auth entry) and committed batches' fsyncs.
  private waiting: Promise<unknown>[] = [];

  constructor(
    private readonly log: AuditLog,
    private readonly store: Store,
  ) {}

  /** Holds an entry (and the row recorded with it) for the turn's next commit. */
  hold(entry: AuditEntry, write?: RecordWrite): void {
    this.held.push({ entry, write });
  }

  /** Takes an append issued elsewhere; its failure surfaces at `settle` (never as an unhandled rejection). */
  add(append: Promise<unknown>): void {
    append.catch(() => undefined);
    this.waiting.push(append);
  }

  /**
   * Runs `work` in one transaction with the held entries and their rows (written last), and returns its result
   * once committed. If the transaction fails nothing of it is written and the entries stay held: they still
   * have to be recorded, by the next commit or settle.
   */
  async commitWith<T>(work: (tx: Store) => Promise<T>): Promise<T> {
    const batch = this.held;
    this.held = [];
    let durable: (() => Promise<unknown>) | undefined;
    try {
      const result = await this.store.transaction(async (tx) => {
        const out = await work(tx);
        for (const { write } of batch) await write?.(tx);
        if (batch.length > 0)
          durable = await this.log.appendWithin(
            tx,
            batch.map((h) => h.entry),
          );
        return out;
      });
      if (durable) this.add(durable());
      return result;
    } catch (error) {
      this.held = [...batch, ...this.held];
      throw error;
    }
  }

  /** Commits what is held, without waiting for its fsync (see `settle`). */
  async commit(): Promise<void> {
    if (this.held.length > 0) await this.commitWith(async () => undefined);
  }

  /** Commits what is held and waits until everything recorded so far is durable; `audit_unavailable` if not. */
  async settle(): Promise<void> {
    await this.commit();
    const waiting = this.waiting;
    this.waiting = [];
    await Promise.all(waiting);
  }

  /**
   * For a step that already fails: its entries still have to be durable before the refusal goes out, and a
   * failed append wins (the caller would otherwise learn of a refusal the log does not hold).
   */
  async settleThenThrow(error: unknown): Promise<never> {
    await this.settle();
    throw error;
  }
}
