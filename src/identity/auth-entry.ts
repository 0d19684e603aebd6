import type { AuditEntry, AuditLog } from '../audit/index.js';

/**
 * A request's `auth.ok` entry, not yet recorded. A route that runs a model turn hands it to the turn, which
 * commits it in its first audit commit (one commit less per request); otherwise it is appended on its own.
 * Either way it is durable before the request has any effect or gets an answer (fail-closed): the server
 * awaits `recorded()` before anything goes out, and a turn that took it settles it before it contacts a model
 * or refuses (src/runtime/pending-audit.ts).
 */
export class AuthEntry {
  private taken = false;
  private appended: Promise<void> | undefined;

  constructor(
    private readonly log: Pick<AuditLog, 'append'>,
    readonly entry: AuditEntry,
  ) {}

  /** Hands the entry to a turn's audit commit; once only, and never after it was appended on its own. */
  takeInto(hold: (entry: AuditEntry) => void): void {
    if (this.taken || this.appended) return;
    this.taken = true;
    hold(this.entry);
  }

  /** Resolves once recorded: appends the entry now unless a turn took it (which records it before it goes on). */
  recorded(): Promise<void> {
    if (this.taken) return Promise.resolve();
    this.appended ??= this.log.append(this.entry).then(() => undefined);
    return this.appended;
  }
}
