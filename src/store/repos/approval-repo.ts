import type { Kysely, Selectable } from 'kysely';
import { guarded } from '../db-errors.js';
import { scopeLabelIds, type ReadScope } from '../read-scope.js';
import type { ApprovalTable } from '../run-schema.js';
import type { Database } from '../schema.js';

export type ApprovalStatus = 'pending' | 'approved' | 'rejected';

export interface ApprovalRecord {
  id: string;
  tenantId: string;
  runId: string;
  stepIndex: number;
  /** The run's label when the approval was requested (null only on a legacy row no reader sees). */
  labelId: string | null;
  /** Who demanded the approval: an MCP server's require_approval, a policy, or the safety stack. */
  source: 'mcp' | 'policy' | 'safety';
  serverLabel: string | null;
  toolName: string;
  arguments: string;
  reason: string | null;
  status: ApprovalStatus;
  requestedBy: string;
  decidedBy: string | null;
  decidedRole: string | null;
  decisionReason: string | null;
  createdAt: number;
  decidedAt: number | null;
}

/**
 * Human approvals of tool calls. A decision is taken once: the first answer wins, later ones change nothing.
 * `byId`/`forStep` are the engine's reads; a principal's reads and decisions take a ReadScope: an approval is
 * visible when its own label and its run's current label are both in the scope (checked inside the query).
 */
export interface ApprovalRepo {
  /** Inserts the request unless the run's step already has one; returns the stored request either way. */
  request(
    record: Omit<ApprovalRecord, 'status' | 'decidedBy' | 'decidedRole' | 'decisionReason' | 'decidedAt'> & {
      labelId: string;
    },
  ): Promise<ApprovalRecord>;
  byId(tenantId: string, id: string): Promise<ApprovalRecord | undefined>;
  /** The approval when `scope` may read it; undefined (a 404 to the caller) otherwise. */
  get(scope: ReadScope, id: string): Promise<ApprovalRecord | undefined>;
  forStep(runId: string, stepIndex: number): Promise<ApprovalRecord | undefined>;
  /** Pending approvals visible to `scope`, oldest first; `requestedBy` keeps only that requester's. */
  listPending(scope: ReadScope, page?: { limit?: number; requestedBy?: string }): Promise<ApprovalRecord[]>;
  decide(
    scope: ReadScope,
    id: string,
    decision: { approve: boolean; by: string; role: string; reason?: string | null },
    now?: number,
  ): Promise<boolean>;
  /** Deletes the approvals of a run (its response was deleted); returns how many. */
  deleteByRun(runId: string): Promise<number>;
}

const toRecord = (row: Selectable<ApprovalTable>): ApprovalRecord => ({
  id: row.id,
  tenantId: row.tenant_id,
  runId: row.run_id,
  stepIndex: Number(row.step_index),
  labelId: row.label_id,
  source: row.source as ApprovalRecord['source'],
  serverLabel: row.server_label,
  toolName: row.tool_name,
  arguments: row.arguments,
  reason: row.reason,
  status: row.status as ApprovalStatus,
  requestedBy: row.requested_by,
  decidedBy: row.decided_by,
  decidedRole: row.decided_role,
  decisionReason: row.decision_reason,
  createdAt: Number(row.created_at),
  decidedAt: row.decided_at === null ? null : Number(row.decided_at),
});

export function approvalRepo(db: Kysely<Database>): ApprovalRepo {
  const forStep = async (runId: string, stepIndex: number) => {
    const row = await db
      .selectFrom('approvals')
      .selectAll()
      .where('run_id', '=', runId)
      .where('step_index', '=', stepIndex)
      .executeTakeFirst();
    return row && toRecord(row);
  };
  // Both the approval's label and its run's current one: a run raised above the reader hides its approvals too.
  const visible = (scope: ReadScope) => {
    const ids = scopeLabelIds(scope);
    return db
      .selectFrom('approvals')
      .innerJoin('runs', 'runs.id', 'approvals.run_id')
      .selectAll('approvals')
      .where('approvals.tenant_id', '=', scope.tenantId)
      .where('approvals.label_id', 'in', ids)
      .where('runs.label_id', 'in', ids);
  };
  return {
    async request(r) {
      await guarded('approval', () =>
        db
          .insertInto('approvals')
          .values({
            id: r.id,
            tenant_id: r.tenantId,
            run_id: r.runId,
            step_index: r.stepIndex,
            label_id: r.labelId,
            source: r.source,
            server_label: r.serverLabel,
            tool_name: r.toolName,
            arguments: r.arguments,
            reason: r.reason,
            status: 'pending',
            requested_by: r.requestedBy,
            decided_by: null,
            decided_role: null,
            decision_reason: null,
            created_at: r.createdAt,
            decided_at: null,
          })
          .onConflict((oc) => oc.columns(['run_id', 'step_index']).doNothing())
          .execute(),
      );
      const stored = await forStep(r.runId, r.stepIndex);
      if (!stored) throw new Error(`approval for ${r.runId}/${r.stepIndex} vanished right after insert`);
      return stored;
    },
    async byId(tenantId, id) {
      const row = await db
        .selectFrom('approvals')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .where('id', '=', id)
        .executeTakeFirst();
      return row && toRecord(row);
    },
    async get(scope, id) {
      const row = await visible(scope).where('approvals.id', '=', id).executeTakeFirst();
      return row && toRecord(row);
    },
    forStep,
    async listPending(scope, page = {}) {
      let q = visible(scope).where('approvals.status', '=', 'pending');
      if (page.requestedBy !== undefined) q = q.where('approvals.requested_by', '=', page.requestedBy);
      const rows = await q
        .orderBy('approvals.created_at')
        .orderBy('approvals.id')
        .limit(page.limit ?? 100)
        .execute();
      return rows.map(toRecord);
    },
    async decide(scope, id, d, now = Date.now()) {
      const ids = scopeLabelIds(scope);
      const r = await db
        .updateTable('approvals')
        .set({
          status: d.approve ? 'approved' : 'rejected',
          decided_by: d.by,
          decided_role: d.role,
          decision_reason: d.reason ?? null,
          decided_at: now,
        })
        .where('tenant_id', '=', scope.tenantId)
        .where('label_id', 'in', ids)
        .where('id', '=', id)
        .where('status', '=', 'pending')
        .where('run_id', 'in', (eb) =>
          eb.selectFrom('runs').select('runs.id').where('runs.label_id', 'in', ids),
        )
        .executeTakeFirst();
      return Number(r.numUpdatedRows) > 0;
    },
    async deleteByRun(runId) {
      const r = await db.deleteFrom('approvals').where('run_id', '=', runId).executeTakeFirst();
      return Number(r.numDeletedRows);
    },
  };
}
