import type { Kysely } from 'kysely';
import type { MemoryQuarantineTable } from '../memory-schema.js';
import type { Database } from '../schema.js';
import type { OwnerKey } from './memory-records.js';

export interface QuarantineRow {
  id: string;
  owner: OwnerKey;
  kind: string;
  text: string;
  reason: string;
  sourceIds: string[];
  labelId: string;
  status: 'pending' | 'released' | 'rejected';
  createdAt: number;
  decidedAt: number | null;
}

export interface JobRow {
  id: string;
  owner: OwnerKey;
  conversationId: string;
  attempts: number;
}

/** The quarantine for flagged memory writes and the durable extraction-job queue. */
export function queueQueries(db: Kysely<Database>) {
  return {
    async quarantine(row: QuarantineRow): Promise<void> {
      await db
        .insertInto('memory_quarantine')
        .values({
          id: row.id,
          tenant_id: row.owner.tenantId,
          user_id: row.owner.userId,
          agent_id: row.owner.agentId,
          kind: row.kind,
          text: row.text,
          reason: row.reason,
          source_ids: JSON.stringify(row.sourceIds),
          label_id: row.labelId,
          status: row.status,
          created_at: row.createdAt,
          decided_at: row.decidedAt,
        })
        .execute();
    },

    async quarantined(
      tenantId: string,
      status: QuarantineRow['status'] = 'pending',
    ): Promise<QuarantineRow[]> {
      const rows = await db
        .selectFrom('memory_quarantine')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .where('status', '=', status)
        .orderBy('created_at')
        .execute();
      return rows.map(fromQuarantineRow);
    },

    /** A reviewer's decision; only a pending entry can be decided (returns false otherwise). */
    async decide(
      tenantId: string,
      id: string,
      status: 'released' | 'rejected',
      at: number,
    ): Promise<boolean> {
      const r = await db
        .updateTable('memory_quarantine')
        .set({ status, decided_at: at })
        .where('tenant_id', '=', tenantId)
        .where('id', '=', id)
        .where('status', '=', 'pending')
        .executeTakeFirst();
      return Number(r.numUpdatedRows) > 0;
    },

    /** Queues extraction for a conversation unless a pending job for it already exists. */
    async enqueue(id: string, owner: OwnerKey, conversationId: string, now: number): Promise<void> {
      const existing = await db
        .selectFrom('memory_jobs')
        .select('id')
        .where('tenant_id', '=', owner.tenantId)
        .where('user_id', '=', owner.userId)
        .where('agent_id', '=', owner.agentId)
        .where('conversation_id', '=', conversationId)
        .where('status', '=', 'pending')
        .executeTakeFirst();
      if (existing) return;
      await db
        .insertInto('memory_jobs')
        .values({
          id,
          tenant_id: owner.tenantId,
          user_id: owner.userId,
          agent_id: owner.agentId,
          conversation_id: conversationId,
          status: 'pending',
          attempts: 0,
          last_error: null,
          run_after: now,
          created_at: now,
        })
        .execute();
    },

    /** Claims the oldest due job; the status check in the UPDATE makes a claim exclusive across workers. */
    async claim(now: number): Promise<JobRow | undefined> {
      const due = await db
        .selectFrom('memory_jobs')
        .selectAll()
        .where('status', '=', 'pending')
        .where('run_after', '<=', now)
        .orderBy('run_after')
        .limit(1)
        .executeTakeFirst();
      if (!due) return undefined;
      const r = await db
        .updateTable('memory_jobs')
        .set({ status: 'running', attempts: Number(due.attempts) + 1 })
        .where('id', '=', due.id)
        .where('status', '=', 'pending')
        .executeTakeFirst();
      if (Number(r.numUpdatedRows) === 0) return undefined;
      return {
        id: due.id,
        owner: { tenantId: due.tenant_id, userId: due.user_id, agentId: due.agent_id },
        conversationId: due.conversation_id,
        attempts: Number(due.attempts) + 1,
      };
    },

    async complete(id: string): Promise<void> {
      await db.deleteFrom('memory_jobs').where('id', '=', id).execute();
    },

    /** Puts a failed job back with a later run time, or marks it failed for good. */
    async fail(id: string, error: string, retryAt: number | null): Promise<void> {
      await db
        .updateTable('memory_jobs')
        .set({
          status: retryAt === null ? 'failed' : 'pending',
          last_error: error.slice(0, 500),
          run_after: retryAt ?? 0,
        })
        .where('id', '=', id)
        .execute();
    },

    /** Jobs left 'running' by a crashed worker become due again. */
    async requeueStale(): Promise<void> {
      await db
        .updateTable('memory_jobs')
        .set({ status: 'pending' })
        .where('status', '=', 'running')
        .execute();
    },
  };
}

export function fromQuarantineRow(r: MemoryQuarantineTable): QuarantineRow {
  return {
    id: r.id,
    owner: { tenantId: r.tenant_id, userId: r.user_id, agentId: r.agent_id },
    kind: r.kind,
    text: r.text,
    reason: r.reason,
    sourceIds: JSON.parse(r.source_ids) as string[],
    labelId: r.label_id,
    status: r.status as QuarantineRow['status'],
    createdAt: Number(r.created_at),
    decidedAt: r.decided_at === null ? null : Number(r.decided_at),
  };
}
