import type { AuditContentSealer } from '../audit/audit-content.js';
import type { AuditLog } from '../audit/audit-log.js';
import { promptSha256, type AuditEntry } from '../audit/audit-entry.js';
import type { Store } from '../store/store.js';
import { PendingAudit } from './pending-audit.js';
import type { Principal } from '../identity/principal.js';
import { canonicalLabel, type Label } from '../labels/index.js';
import type { Attempt } from '../providers/index.js';

/** What a principal tried to do to an object. */
export type AccessAction = 'read' | 'list' | 'chain' | 'write' | 'delete' | 'label' | 'route' | 'downgrade';

/**
 * Rules named in audit entries:
 * - `mac.read` / `mac.no_read_up`: the clearance dominates the object's label (and satisfies its access
 *   expression) or not; an invisible object answers 404 like a missing one, but the log knows the difference;
 * - `not_found`: no such object in the caller's tenant;
 * - `mac.write` / `mac.no_write_down`: the container dominates what is written into it, or not;
 * - `mac.label_above_clearance`: a request or item labelled above the caller's clearance;
 * - `routing.not_accredited`: no endpoint of the model's chain is accredited for the context label;
 * - `downgrade.*`: trusted downgrade requests and reviews.
 */
export type AccessRule =
  | 'mac.read'
  | 'mac.no_read_up'
  | 'not_found'
  | 'mac.write'
  | 'mac.no_write_down'
  | 'mac.label_above_clearance'
  | 'routing.not_accredited'
  | `downgrade.${string}`;

export interface AccessDecision {
  principal: Principal;
  action: AccessAction;
  allow: boolean;
  rule: AccessRule;
  /** `response`, `conversation`, `item`, `request`, `model`, `downgrade`. */
  kind: string;
  objectId?: string | undefined;
  objectLabel?: Label | undefined;
  /** The label the caller operates at: its (effective) clearance for reads, the request/context label for writes. */
  sessionLabel: Label;
  endpoint?: string | undefined;
  detail?: Record<string, unknown> | undefined;
}

export interface ModelCall {
  principal: Principal;
  /** The response (or chat completion) the call served. */
  objectId: string;
  endpoint: { id: string; provider: string; model: string };
  attempts: readonly Attempt[];
  usage: { input_tokens: number; output_tokens: number } | null;
  latencyMs: number;
  /** The context label the endpoint received. */
  label: Label;
  /** `promptSha256` of what was sent (see promptDigest); never the text. */
  promptSha256: string;
  /** The text hashed into `promptSha256`: sealed into the entry only with `audit.storeContent` opted in. */
  promptText?: string | undefined;
  status: string;
  /** Set for a call that is not the turn's answer: `compaction` (the history's summary). */
  purpose?: 'compaction' | undefined;
}

/**
 * The runtime's one writer of access decisions and model calls into the audit log. A call awaits the append,
 * and an append that fails rejects (`audit_unavailable`): callers let it fail the operation before it goes on
 * (fail-closed) — a read is not answered, a write not committed, a turn not stored. Given a turn's
 * `PendingAudit`, a call holds its entry there instead, to commit with the turn's next effect.
 */
export class DecisionAudit {
  /** `content` is set when `audit.storeContent` is on: model calls then carry their prompt sealed. */
  constructor(
    private readonly log: AuditLog,
    private readonly content?: AuditContentSealer | undefined,
  ) {}

  /** A turn's holder of entries, committing through `store` (pending-audit.ts). */
  pending(store: Store): PendingAudit {
    return new PendingAudit(this.log, store);
  }

  async access(d: AccessDecision, pending?: PendingAudit): Promise<void> {
    const objectLabel = d.objectLabel && canonicalLabel(d.objectLabel);
    const sessionLabel = canonicalLabel(d.sessionLabel);
    await this.record(pending, {
      type: d.allow ? 'access.allow' : 'access.deny',
      time: Date.now(),
      tenant: d.principal.tenantId,
      principal: d.principal.subject,
      ...(d.principal.onBehalfOf !== undefined ? { onBehalfOf: d.principal.onBehalfOf } : {}),
      decision: d.allow ? 'allow' : 'deny',
      rule: d.rule,
      ...(d.objectId !== undefined ? { objectId: d.objectId } : {}),
      ...(objectLabel !== undefined ? { objectLabel } : {}),
      sessionLabel,
      ...(d.endpoint !== undefined ? { endpoint: d.endpoint } : {}),
      // The entry tells of the object, so it is classified like the object (or the session when there is none).
      label: objectLabel ?? sessionLabel,
      detail: { action: d.action, kind: d.kind, ...d.detail },
    });
  }

  private async record(pending: PendingAudit | undefined, entry: AuditEntry): Promise<void> {
    if (pending) pending.hold(entry);
    else await this.log.append(entry);
  }

  /** A trusted-downgrade request, refusal or decision; the entry is labelled like the data before it. */
  async downgrade(d: {
    principal: Principal;
    allow: boolean;
    rule: `downgrade.${string}`;
    requestId: string;
    objectKind: string;
    objectId: string;
    from: Label;
    to: Label;
    requester: string;
  }): Promise<void> {
    const from = canonicalLabel(d.from);
    await this.log.append({
      type: 'label.downgrade',
      time: Date.now(),
      tenant: d.principal.tenantId,
      principal: d.principal.subject,
      ...(d.principal.onBehalfOf !== undefined ? { onBehalfOf: d.principal.onBehalfOf } : {}),
      decision: d.allow ? 'allow' : 'deny',
      rule: d.rule,
      objectId: d.objectId,
      objectLabel: from,
      sessionLabel: canonicalLabel(d.to),
      label: from,
      detail: { request: d.requestId, kind: d.objectKind, requester: d.requester },
    });
  }

  async modelCall(call: ModelCall, pending?: PendingAudit): Promise<void> {
    const label = canonicalLabel(call.label);
    const tenant = call.principal.tenantId;
    const sealed =
      this.content && call.promptText !== undefined
        ? await this.content({ tenant, objectId: call.objectId, label }, 'prompt', call.promptText)
        : undefined;
    await this.record(pending, {
      type: 'model.call',
      time: Date.now(),
      tenant: call.principal.tenantId,
      principal: call.principal.subject,
      ...(call.principal.onBehalfOf !== undefined ? { onBehalfOf: call.principal.onBehalfOf } : {}),
      objectId: call.objectId,
      sessionLabel: label,
      endpoint: call.endpoint.id,
      label,
      detail: {
        model: call.endpoint.model,
        provider: call.endpoint.provider,
        status: call.status,
        usage: call.usage,
        latencyMs: call.latencyMs,
        promptSha256: call.promptSha256,
        ...(call.purpose ? { purpose: call.purpose } : {}),
        ...sealed,
        attempts: call.attempts.map((a) => ({
          endpoint: a.endpoint,
          outcome: a.outcome,
          ...(a.reason !== undefined ? { reason: a.reason } : {}),
        })),
      },
    });
  }
}

/** The text a `model.call` entry attributes: what a model was sent (instructions and items) as JSON. */
export const promptJson = (instructions: string | undefined | null, items: readonly unknown[]): string =>
  JSON.stringify({ instructions: instructions ?? null, items });

/** The digest of what a model was sent (instructions and items), for the `model.call` entry. */
export const promptDigest = (instructions: string | undefined | null, items: readonly unknown[]): string =>
  promptSha256(promptJson(instructions, items));
