/**
 * Audit appends a turn has issued but not yet waited for. The audit log commits every append queued in the
 * same tick in one transaction (one fsync when durable), so a turn that awaits each of its entries in turn pays
 * one commit per entry. Instead, entries whose outcome changes nothing until the turn's next effect (the chain
 * read's decision, the model call, the output verdict) are issued and collected here, and the turn settles them
 * right before that effect: before any model is contacted, and before the turn is stored or answered. The
 * guarantee stays fail-closed — nothing leaves the process and nothing is written that the log does not hold —
 * only the wait is shared.
 */
export class PendingAudit {
  private issued: Promise<unknown>[] = [];

  /** Takes an issued append; its failure surfaces at the next `settle` (never as an unhandled rejection). */
  add(append: Promise<unknown>): void {
    append.catch(() => undefined);
    this.issued.push(append);
  }

  /** Waits for every append issued so far; rejects (`audit_unavailable`) if any of them failed. */
  async settle(): Promise<void> {
    const issued = this.issued;
    this.issued = [];
    await Promise.all(issued);
  }

  /**
   * For a step that already fails: its entries still have to commit before the refusal goes out, and a
   * failed append wins (the caller would otherwise learn of a refusal the log does not hold).
   */
  async settleThenThrow(error: unknown): Promise<never> {
    await this.settle();
    throw error;
  }
}

/** Issues an append: into `pending` when the caller collects them, awaited right here otherwise. */
export async function appendVia(pending: PendingAudit | undefined, append: Promise<unknown>): Promise<void> {
  if (pending) pending.add(append);
  else await append;
}
