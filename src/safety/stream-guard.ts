import type { ClassifyOptions, SafetyEngine } from './classifier.js';
import { redact, redactableSpans } from './redact.js';
import type { Verdict } from './verdict.js';

export interface StreamGuardStep {
  /** Text that is safe to send to the client now (possibly redacted); '' while text is held back. */
  emit: string;
  /** True once a block or escalation fired: send a refusal and stop; nothing after `emit` may be sent. */
  blocked: boolean;
  /** The latest verdict (set on each check). */
  verdict?: Verdict;
}

export interface StreamGuardOptions extends ClassifyOptions {
  /** Characters between checks (a check also runs at each sentence end). */
  checkEvery?: number;
  /** Characters always held back, so a key or card number being typed is never half-sent. */
  holdBack?: number;
}

/** Text beyond this is checked as a trailing window (plus the worst verdict so far), keeping checks O(window). */
const MAX_WINDOW = 8_000;

/**
 * Checks a streamed output as it accumulates. Text is released only after a check covered it, minus a
 * hold-back tail, so when a block fires the blocked text has not left the server: the caller sends the
 * released text, then a refusal. Redaction spans are applied before release and never cut in half.
 */
export class StreamGuard {
  private raw = '';
  private released = 0;
  private checkedAt = 0;
  private blockedVerdict: Verdict | undefined;
  private readonly checkEvery: number;
  private readonly holdBack: number;

  constructor(
    private readonly engine: SafetyEngine,
    private readonly options: StreamGuardOptions,
  ) {
    this.checkEvery = options.checkEvery ?? 160;
    this.holdBack = options.holdBack ?? 64;
  }

  get blocked(): boolean {
    return this.blockedVerdict !== undefined;
  }

  /** Feeds one delta; returns what may be sent now. */
  push(delta: string): StreamGuardStep {
    if (this.blockedVerdict) return { emit: '', blocked: true, verdict: this.blockedVerdict };
    this.raw += delta;
    const due = this.raw.length - this.checkedAt >= this.checkEvery || /[.!?\n]\s*$/.test(delta);
    if (!due) return { emit: '', blocked: false };
    return this.check(false);
  }

  /** Ends the stream: a final check over everything, then the rest is released (or the block fires). */
  end(): StreamGuardStep {
    if (this.blockedVerdict) return { emit: '', blocked: true, verdict: this.blockedVerdict };
    return this.check(true);
  }

  private check(final: boolean): StreamGuardStep {
    this.checkedAt = this.raw.length;
    const windowStart = Math.max(0, this.raw.length - MAX_WINDOW);
    const local = this.engine.classify(this.raw.slice(windowStart), this.options);
    const verdict = windowStart === 0 ? local : shift(local, windowStart);
    if (verdict.action === 'block' || verdict.action === 'escalate') {
      this.blockedVerdict = verdict;
      return { emit: '', blocked: true, verdict };
    }
    let until = final ? this.raw.length : Math.max(this.released, this.raw.length - this.holdBack);
    for (const s of redactableSpans(verdict))
      if (s.start < until && s.end > until) until = Math.max(this.released, s.start);
    const emit = redact(this.raw.slice(this.released, until), verdict, this.released);
    this.released = until;
    return { emit, blocked: false, verdict };
  }
}

const shift = (v: Verdict, by: number): Verdict => ({
  ...v,
  categories: v.categories.map((c) =>
    c.spans ? { ...c, spans: c.spans.map((s) => ({ ...s, start: s.start + by, end: s.end + by })) } : c,
  ),
});
