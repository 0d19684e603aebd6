import { z } from 'zod';
import { promptSha256, type AuditContentSealer, type AuditEntry, type AuditLog } from '../audit/index.js';
import { configSection, type Config } from '../config/config.js';
import { canonicalLabel, type Label } from '../labels/index.js';
import {
  actions,
  verdictRecord,
  type Action,
  type Policy,
  type Safety,
  type StreamGuardOptions,
  type Surface,
  type Verdict,
} from '../safety/index.js';
import type { Store } from '../store/store.js';
import type { PendingAudit } from './pending-audit.js';

/**
 * The runtime's side of the safety stack (`src/safety`): it decides nothing itself. It classifies a text on a
 * surface under the tenant's policy, records the verdict (hash only) with a review item when a human is
 * needed, and audits it — the same three steps on every path (input, streamed output, tool calls).
 */

/**
 * The runtime's keys of the `safety` config section (the safety domain reads the rest):
 * - `enabled` (default true): `false` turns screening off on every path (benchmarks, trusted labs);
 * - `stream.checkEvery` / `stream.holdBack`: the StreamGuard cadence (default 160 / 64 characters). Smaller values
 *   release text sooner at the cost of more checks; a hold-back of 0 lets a split credential out half-sent.
 */
const gateConfigSchema = z.object({
  enabled: z.boolean().default(true),
  stream: z
    .object({
      checkEvery: z.number().int().min(1).max(100_000).optional(),
      holdBack: z.number().int().min(0).max(100_000).optional(),
    })
    .default({}),
});
export type SafetyGateConfig = z.output<typeof gateConfigSchema>;

export const safetyGateConfig = (config: Config): SafetyGateConfig =>
  configSection(config, 'safety', gateConfigSchema);

/** Who asked and what the text is labelled: every verdict is recorded and audited against these. */
export interface ScreenContext {
  tenantId: string;
  /** The principal's subject (key id or OIDC subject): the requester a reviewer must differ from. */
  principal: string;
  label: Label;
  labelId: string;
  /**
   * Holds the verdict's rows and audit entry for the turn's next commit instead of writing them here
   * (pending-audit.ts): set only where the turn commits or settles them before it goes on.
   */
  pending?: PendingAudit | undefined;
}

export interface ScreenTarget {
  surface: Surface;
  text: string;
  /** What was classified: item id, response id, tool call id. */
  subject: string;
  /** Where the client sent it (`input[2]`, `instructions`), named in refusals. */
  param?: string;
  /** The target's own label when it differs from the context's (input items may carry their own). */
  label?: { label: Label; labelId: string };
}

/** One recorded verdict (never the text). */
export interface Screened {
  target: ScreenTarget;
  verdict: Verdict;
  verdictId: string;
  reviewId: string | null;
}

export const rank = (a: Action): number => actions.indexOf(a);

/** The strongest action among verdicts (allow when there are none). */
export const strongest = (screened: readonly { verdict: Verdict }[]): Action =>
  screened.reduce<Action>((a, s) => (rank(s.verdict.action) > rank(a) ? s.verdict.action : a), 'allow');

export class SafetyGate {
  constructor(
    readonly safety: Safety,
    private readonly store: Store,
    private readonly audit: AuditLog,
    private readonly config: SafetyGateConfig = { enabled: true, stream: {} },
    /** Set when `audit.storeContent` is on: verdict entries then carry the screened text sealed. */
    private readonly auditContent?: AuditContentSealer | undefined,
  ) {}

  get enabled(): boolean {
    return this.config.enabled;
  }

  /** StreamGuard options for a tenant's output stream. */
  streamOptions(tenantId: string): StreamGuardOptions {
    const { checkEvery, holdBack } = this.config.stream;
    return {
      surface: 'output',
      policy: this.policyFor(tenantId),
      ...(checkEvery !== undefined ? { checkEvery } : {}),
      ...(holdBack !== undefined ? { holdBack } : {}),
    };
  }

  policyFor(tenantId: string): Policy {
    return this.safety.policyFor(tenantId);
  }

  /** Layers 1–2 (synchronous, in-process) under the tenant's policy. */
  classify(tenantId: string, text: string, surface: Surface): Verdict {
    return this.safety.engine.classify(text, { surface, policy: this.policyFor(tenantId) });
  }

  /** Classifies, records and audits one target. */
  async screen(ctx: ScreenContext, target: ScreenTarget): Promise<Screened> {
    const verdict = this.classify(ctx.tenantId, target.text, target.surface);
    return this.record(ctx, target, verdict);
  }

  /**
   * Records a verdict already computed (a stream guard's) and audits it. Flagged, blocked and escalated
   * texts go to the review queue with their label, so only reviewers cleared for it ever read them.
   */
  async record(ctx: ScreenContext, target: ScreenTarget, verdict: Verdict): Promise<Screened> {
    const label = target.label ?? { label: ctx.label, labelId: ctx.labelId };
    const rows = verdictRecord({
      tenantId: ctx.tenantId,
      surface: target.surface,
      text: target.text,
      verdict,
      subject: target.subject,
      labelId: label.labelId,
      requester: ctx.principal,
    });
    const { verdictId, reviewId } = rows;
    // Without a turn to commit with, the rows are written now and the entry appended after them.
    if (!ctx.pending) await rows.write(this.store.safety);
    const blocked = verdict.action === 'block' || verdict.action === 'escalate';
    const entryLabel = canonicalLabel(label.label);
    const sealed = this.auditContent
      ? await this.auditContent(
          { tenant: ctx.tenantId, objectId: target.subject, label: entryLabel },
          `safety.${target.surface}`,
          target.text,
        )
      : undefined;
    const entry: AuditEntry = {
      type: 'safety.verdict',
      time: Date.now(),
      tenant: ctx.tenantId,
      principal: ctx.principal,
      decision: blocked ? 'deny' : 'allow',
      rule: `safety.${verdict.action}`,
      objectId: target.subject,
      objectLabel: entryLabel,
      label: entryLabel,
      detail: {
        verdictId,
        reviewId,
        surface: target.surface,
        action: verdict.action,
        flagged: verdict.flagged,
        score: round(verdict.score),
        categories: verdict.categories.map((c) => ({
          category: c.category,
          score: round(c.score),
          layer: c.layer,
        })),
        policyVersion: verdict.policyVersion,
        modelVersion: verdict.modelVersion,
        promptSha256: promptSha256(target.text),
        ...sealed,
      },
    };
    if (ctx.pending) ctx.pending.hold(entry, (tx) => rows.write(tx.safety));
    else await this.audit.append(entry);
    return { target, verdict, verdictId, reviewId };
  }
}

const round = (n: number): number => Math.round(n * 1e4) / 1e4;
