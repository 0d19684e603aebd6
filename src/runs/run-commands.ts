import { EnclaveError, notFound } from '../errors/index.js';
import type { ReadScope } from '../store/read-scope.js';
import type { RunRecord } from '../store/repos/run-repo.js';
import type { Store } from '../store/store.js';
import type { AuditAppender } from './run-context.js';
import { isFinal } from './run-status.js';

/** The job kind that executes runs; its job id is the run id (one queue entry per run). */
export const RUN_JOB = 'run';

export interface NewRun {
  id: string;
  tenantId: string;
  kind: string;
  /** The run's label: the request's (or the caller's default); the handler raises it with the turn. */
  labelId: string;
  /** Everything the handler needs to start from scratch; `principal` names who the run acts for. */
  input: { principal: string } & Record<string, unknown>;
  conversationId?: string | null;
  maxAttempts?: number;
}

/** Records a run and queues it in one transaction: a run is never stored without a way to execute it. */
export async function submitRun(store: Store, run: NewRun): Promise<void> {
  await store.transaction(async (tx) => {
    await tx.runs.insert({
      id: run.id,
      tenantId: run.tenantId,
      kind: run.kind,
      labelId: run.labelId,
      conversationId: run.conversationId ?? null,
      input: run.input,
    });
    await tx.jobs.enqueue({
      id: run.id,
      kind: RUN_JOB,
      payload: { runId: run.id },
      maxAttempts: run.maxAttempts ?? 5,
    });
  });
}

/**
 * Asks a run to stop. A queued or parked run is cancelled at once (no worker holds it); a running one
 * stops at its next safe point (between steps, or by aborting the model/tool call in flight).
 * Cancelling a finished run is a 409: there is nothing left to stop.
 */
export async function cancelRun(store: Store, tenantId: string, runId: string): Promise<RunRecord> {
  const run = await store.runs.byId(runId);
  if (!run || run.tenantId !== tenantId) throw notFound('response', runId);
  if (isFinal(run.status)) {
    throw new EnclaveError(
      'conflict',
      `Response ${runId} is already ${run.status}; only a queued or running response can be cancelled.`,
    );
  }
  await store.runs.requestCancel(runId);
  await store.runs.transition(runId, ['queued', 'requires_action'], 'cancelled', { completed: true });
  const after = await store.runs.byId(runId);
  if (!after) throw notFound('response', runId);
  return after;
}

export interface ApprovalDecision {
  tenantId: string;
  /** The decider's read scope: an approval it cannot read is a 404, decided inside the query. */
  scope: ReadScope;
  approvalId: string;
  approve: boolean;
  /** Who answers, and with which role: the run's own principal, or a reviewer/admin of the tenant. */
  principal: string;
  role: string;
  reason?: string | null;
  /** Canonical label classifying the audit entry (the run's context label). */
  label: string;
}

const reviewerRoles = new Set(['reviewer', 'admin']);

/** Takes a human decision on a parked tool call, audits it, and puts the run back in the queue. */
export async function decideApproval(
  store: Store,
  audit: AuditAppender | undefined,
  d: ApprovalDecision,
): Promise<void> {
  const approval = await store.approvals.get(d.scope, d.approvalId);
  if (!approval) throw notFound('approval request', d.approvalId);
  // A request the safety stack held is a red line: only a reviewer other than the requester may release it.
  if (approval.source === 'safety' && (!reviewerRoles.has(d.role) || approval.requestedBy === d.principal)) {
    throw new EnclaveError(
      'forbidden',
      'This request was held by the safety policy: a reviewer other than the requester must decide it.',
    );
  }
  if (approval.requestedBy !== d.principal && !reviewerRoles.has(d.role)) {
    throw new EnclaveError(
      'forbidden',
      'Only the requester or a reviewer of this tenant may answer this approval request.',
    );
  }
  const decided = await store.approvals.decide(d.scope, d.approvalId, {
    approve: d.approve,
    by: d.principal,
    role: d.role,
    reason: d.reason ?? null,
  });
  if (!decided) throw new EnclaveError('conflict', `Approval request ${d.approvalId} was already answered.`);
  await audit?.append({
    type: 'approval.decision',
    time: Date.now(),
    tenant: d.tenantId,
    principal: d.principal,
    decision: d.approve ? 'allow' : 'deny',
    rule: `${approval.source}.require_approval`,
    objectId: approval.id,
    label: d.label,
    detail: { run: approval.runId, tool: approval.toolName, role: d.role },
  });
  await resumeParked(store, approval.runId);
}

/**
 * Requeues a parked run. Safe to call from both sides of the race between a decision and the run parking
 * itself: the compare-and-set on the run's status lets exactly one caller requeue it.
 */
export async function resumeParked(store: Store, runId: string): Promise<boolean> {
  if (!(await store.runs.transition(runId, ['requires_action'], 'queued'))) return false;
  await store.jobs.requeue(runId);
  return true;
}
