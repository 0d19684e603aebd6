import type { Kysely, Selectable } from 'kysely';
import type { LabelDowngradeTable } from '../label-downgrade-schema.js';
import type { ReadScope } from '../read-scope.js';
import { scopeLabelIds } from '../read-scope.js';
import type { Database } from '../schema.js';

export type DowngradeStatus = 'pending' | 'approved' | 'rejected';

export interface DowngradeRecord {
  id: string;
  tenantId: string;
  objectKind: 'response' | 'conversation' | 'item';
  objectId: string;
  fromLabelId: string;
  toLabelId: string;
  requester: string;
  requesterOnBehalfOf: string | null;
  reason: string;
  status: DowngradeStatus;
  reviewer: string | null;
  createdAt: number;
  decidedAt: number | null;
}

/**
 * Trusted-downgrade requests. Reads are scoped like any labelled row, by the label the object had when the
 * request was made (`from_label_id`): a request tells of the object, so only those who may read it see it.
 */
export interface LabelDowngradeRepo {
  insert(record: DowngradeRecord): Promise<void>;
  get(scope: ReadScope, id: string): Promise<DowngradeRecord | undefined>;
  /**
   * Requests the scope may see, oldest first (a review queue), `limit + 1` rows so callers know if more follow.
   * `after` is a request id: paging resumes past it, and a cursor the scope cannot see yields nothing (it must
   * not reveal where an invisible request sits). Label filtering is the WHERE clause, so hidden requests are
   * never counted or paged over.
   */
  list(
    scope: ReadScope,
    filter: {
      status?: DowngradeStatus;
      /** Only requests made by this subject, or by an agent acting for it (`requester_on_behalf_of`). */
      requester?: { subject: string; onBehalfOf: string };
      after?: string;
      limit: number;
    },
  ): Promise<DowngradeRecord[]>;
  /** Moves a pending request to its decision; false when it was not pending (decided once, by one reviewer). */
  decide(
    scope: ReadScope,
    id: string,
    decision: { status: 'approved' | 'rejected'; reviewer: string; now: number },
  ): Promise<boolean>;
}

const toRecord = (r: Selectable<LabelDowngradeTable>): DowngradeRecord => ({
  id: r.id,
  tenantId: r.tenant_id,
  objectKind: r.object_kind as DowngradeRecord['objectKind'],
  objectId: r.object_id,
  fromLabelId: r.from_label_id,
  toLabelId: r.to_label_id,
  requester: r.requester,
  requesterOnBehalfOf: r.requester_on_behalf_of,
  reason: r.reason,
  status: r.status as DowngradeStatus,
  reviewer: r.reviewer,
  createdAt: Number(r.created_at),
  decidedAt: r.decided_at === null ? null : Number(r.decided_at),
});

export function labelDowngradeRepo(db: Kysely<Database>): LabelDowngradeRepo {
  return {
    async insert(r) {
      await db
        .insertInto('label_downgrades')
        .values({
          id: r.id,
          tenant_id: r.tenantId,
          object_kind: r.objectKind,
          object_id: r.objectId,
          from_label_id: r.fromLabelId,
          to_label_id: r.toLabelId,
          requester: r.requester,
          requester_on_behalf_of: r.requesterOnBehalfOf,
          reason: r.reason,
          status: r.status,
          reviewer: r.reviewer,
          created_at: r.createdAt,
          decided_at: r.decidedAt,
        })
        .execute();
    },
    async get(scope, id) {
      const row = await db
        .selectFrom('label_downgrades')
        .selectAll()
        .where('tenant_id', '=', scope.tenantId)
        .where('from_label_id', 'in', scopeLabelIds(scope))
        .where('id', '=', id)
        .executeTakeFirst();
      return row && toRecord(row);
    },
    async list(scope, filter) {
      const visible = () =>
        db
          .selectFrom('label_downgrades')
          .selectAll()
          .where('tenant_id', '=', scope.tenantId)
          .where('from_label_id', 'in', scopeLabelIds(scope));
      let query = visible();
      if (filter.status !== undefined) query = query.where('status', '=', filter.status);
      if (filter.requester !== undefined) {
        const who = filter.requester;
        query = query.where((eb) =>
          eb.or([eb('requester', '=', who.subject), eb('requester_on_behalf_of', '=', who.onBehalfOf)]),
        );
      }
      if (filter.after !== undefined) {
        const cursor = await visible().where('id', '=', filter.after).executeTakeFirst();
        if (!cursor) return [];
        const at = Number(cursor.created_at);
        query = query.where((eb) =>
          eb.or([eb('created_at', '>', at), eb.and([eb('created_at', '=', at), eb('id', '>', cursor.id)])]),
        );
      }
      const rows = await query
        .orderBy('created_at', 'asc')
        .orderBy('id', 'asc')
        .limit(filter.limit + 1)
        .execute();
      return rows.map(toRecord);
    },
    async decide(scope, id, d) {
      const result = await db
        .updateTable('label_downgrades')
        .set({ status: d.status, reviewer: d.reviewer, decided_at: d.now })
        .where('tenant_id', '=', scope.tenantId)
        .where('from_label_id', 'in', scopeLabelIds(scope))
        .where('id', '=', id)
        .where('status', '=', 'pending')
        .executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },
  };
}
