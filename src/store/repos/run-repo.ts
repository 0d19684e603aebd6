import type { Kysely, Selectable } from 'kysely';
import { guarded } from '../db-errors.js';
import { scopeLabelIds, type ReadScope } from '../read-scope.js';
import type { RunEventTable, RunTable } from '../run-schema.js';
import type { Database } from '../schema.js';

export interface RunRecord {
  id: string;
  tenantId: string;
  kind: string;
  /** The run's label (null only on a legacy row the worker has not labelled yet: no reader sees it). */
  labelId: string | null;
  status: string;
  conversationId: string | null;
  input: unknown;
  output: unknown;
  error: unknown;
  cancelRequestedAt: number | null;
  createdAt: number;
  updatedAt: number;
  completedAt: number | null;
}

export interface RunEvent {
  seq: number;
  type: string;
  /** The run's label when the event was recorded. */
  labelId: string | null;
  data: unknown;
}

/**
 * Runs and the events they emitted. Status changes are compare-and-set so racing writers cannot both win.
 * Methods without a ReadScope are the engine's (a worker executes any run); a read that serves a principal
 * goes through `get` / `visibleEvents`, which filter by tenant and label inside the query.
 */
export interface RunRepo {
  insert(run: {
    id: string;
    tenantId: string;
    kind: string;
    labelId: string;
    conversationId?: string | null;
    input: unknown;
    status?: string;
    now?: number;
  }): Promise<void>;
  byId(id: string): Promise<RunRecord | undefined>;
  /** The run when `scope` may read it (its tenant, its label visible); undefined otherwise. */
  get(scope: ReadScope, id: string): Promise<RunRecord | undefined>;
  /**
   * Sets the run's label (the runtime passes a label dominating the old one: labels only rise). Content columns
   * given are stored as they are (the sealing store re-seals them, as the label is in their AAD). Steps, events
   * and approvals already written keep the label they were written under.
   */
  relabel(
    id: string,
    labelId: string,
    content?: { input?: unknown; output?: unknown; error?: unknown },
  ): Promise<boolean>;
  /** Moves the run to `to` only if it is in one of `from`; returns whether it moved. */
  transition(
    id: string,
    from: readonly string[],
    to: string,
    fields?: { output?: unknown; error?: unknown; completed?: boolean },
    now?: number,
  ): Promise<boolean>;
  /** Marks a cancel request (idempotent); false when the run does not exist. */
  requestCancel(id: string, now?: number): Promise<boolean>;
  /**
   * Appends an event with the next sequence number (starting at 0) and returns that number. `encode`, when
   * given, turns the event's data into what is stored once its number is known (the sealing store binds the
   * number into the ciphertext); it runs inside the append's transaction.
   */
  appendEvent(
    id: string,
    type: string,
    data: unknown,
    now?: number,
    encode?: (seq: number, labelId: string | null) => Promise<unknown>,
  ): Promise<number>;
  /** Events with seq > `after` in order (after = -1 for all). The engine's read (no scope). */
  events(id: string, after: number, limit?: number): Promise<RunEvent[]>;
  /**
   * Like `events`, for a reader: only when the run itself is visible to `scope` (tenant and current label),
   * and only events whose own label is visible — filtered in the query, so a hidden event is never counted.
   */
  visibleEvents(scope: ReadScope, id: string, after: number, limit?: number): Promise<RunEvent[]>;
  /** Runs not in a final state (for tests and operators). */
  listUnfinished(limit?: number): Promise<RunRecord[]>;
  /** Ids of a tenant's runs of one kind, oldest first (user erasure looks for the user's among them). */
  idsOfTenant(tenantId: string, kind: string): Promise<string[]>;
  /** Deletes a run with its steps and events (the response it served was deleted); false when absent. */
  delete(id: string): Promise<boolean>;
}

const parse = (text: string | null): unknown => (text === null ? null : (JSON.parse(text) as unknown));

const toRecord = (row: Selectable<RunTable>): RunRecord => ({
  id: row.id,
  tenantId: row.tenant_id,
  kind: row.kind,
  labelId: row.label_id,
  status: row.status,
  conversationId: row.conversation_id,
  input: parse(row.input),
  output: parse(row.output),
  error: parse(row.error),
  cancelRequestedAt: row.cancel_requested_at === null ? null : Number(row.cancel_requested_at),
  createdAt: Number(row.created_at),
  updatedAt: Number(row.updated_at),
  completedAt: row.completed_at === null ? null : Number(row.completed_at),
});

const toEvent = (r: Selectable<RunEventTable>): RunEvent => ({
  seq: Number(r.seq),
  type: r.type,
  labelId: r.label_id,
  data: parse(r.data),
});

const FINAL = ['completed', 'failed', 'incomplete', 'cancelled'];

export function runRepo(db: Kysely<Database>): RunRepo {
  return {
    async insert(run) {
      const now = run.now ?? Date.now();
      await guarded('run', () =>
        db
          .insertInto('runs')
          .values({
            id: run.id,
            tenant_id: run.tenantId,
            kind: run.kind,
            label_id: run.labelId,
            status: run.status ?? 'queued',
            conversation_id: run.conversationId ?? null,
            input: JSON.stringify(run.input ?? null),
            output: null,
            error: null,
            cancel_requested_at: null,
            next_event_seq: 0,
            created_at: now,
            updated_at: now,
            completed_at: null,
          })
          .execute(),
      );
    },
    async byId(id) {
      const row = await db.selectFrom('runs').selectAll().where('id', '=', id).executeTakeFirst();
      return row && toRecord(row);
    },
    async get(scope, id) {
      const row = await db
        .selectFrom('runs')
        .selectAll()
        .where('tenant_id', '=', scope.tenantId)
        .where('label_id', 'in', scopeLabelIds(scope))
        .where('id', '=', id)
        .executeTakeFirst();
      return row && toRecord(row);
    },
    async relabel(id, labelId, content = {}) {
      const r = await db
        .updateTable('runs')
        .set({
          label_id: labelId,
          ...(content.input === undefined ? {} : { input: JSON.stringify(content.input) }),
          ...(content.output === undefined ? {} : { output: JSON.stringify(content.output) }),
          ...(content.error === undefined ? {} : { error: JSON.stringify(content.error) }),
        })
        .where('id', '=', id)
        .executeTakeFirst();
      return Number(r.numUpdatedRows) > 0;
    },
    async transition(id, from, to, fields = {}, now = Date.now()) {
      const r = await db
        .updateTable('runs')
        .set({
          status: to,
          updated_at: now,
          ...(fields.output === undefined ? {} : { output: JSON.stringify(fields.output) }),
          ...(fields.error === undefined ? {} : { error: JSON.stringify(fields.error) }),
          ...(fields.completed ? { completed_at: now } : {}),
        })
        .where('id', '=', id)
        .where('status', 'in', [...from])
        .executeTakeFirst();
      return Number(r.numUpdatedRows) > 0;
    },
    async requestCancel(id, now = Date.now()) {
      const r = await db
        .updateTable('runs')
        .set((eb) => ({
          cancel_requested_at: eb.fn.coalesce('cancel_requested_at', eb.val(now)),
          updated_at: now,
        }))
        .where('id', '=', id)
        .executeTakeFirst();
      return Number(r.numUpdatedRows) > 0;
    },
    async appendEvent(id, type, data, now = Date.now(), encode) {
      // Take the number and write the event in one transaction so numbers never repeat or skip.
      const write = async (trx: Kysely<Database>) => {
        const row = await trx
          .updateTable('runs')
          .set((eb) => ({ next_event_seq: eb('next_event_seq', '+', 1) }))
          .where('id', '=', id)
          .returning(['next_event_seq', 'label_id'])
          .executeTakeFirstOrThrow();
        const seq = Number(row.next_event_seq) - 1;
        // The event carries the run's label as it is now (read in the same transaction as the number).
        const stored = encode ? await encode(seq, row.label_id) : data;
        await trx
          .insertInto('run_events')
          .values({
            run_id: id,
            seq,
            type,
            label_id: row.label_id,
            data: JSON.stringify(stored),
            created_at: now,
          })
          .execute();
        return seq;
      };
      return db.isTransaction ? write(db) : db.transaction().execute(write);
    },
    async events(id, after, limit = 10_000) {
      const rows = await db
        .selectFrom('run_events')
        .selectAll()
        .where('run_id', '=', id)
        .where('seq', '>', after)
        .orderBy('seq')
        .limit(limit)
        .execute();
      return rows.map(toEvent);
    },
    async visibleEvents(scope, id, after, limit = 10_000) {
      const ids = scopeLabelIds(scope);
      const rows = await db
        .selectFrom('run_events')
        .innerJoin('runs', 'runs.id', 'run_events.run_id')
        .selectAll('run_events')
        .where('runs.tenant_id', '=', scope.tenantId)
        .where('runs.label_id', 'in', ids)
        .where('run_events.label_id', 'in', ids)
        .where('run_events.run_id', '=', id)
        .where('run_events.seq', '>', after)
        .orderBy('run_events.seq')
        .limit(limit)
        .execute();
      return rows.map(toEvent);
    },
    async listUnfinished(limit = 1000) {
      const rows = await db
        .selectFrom('runs')
        .selectAll()
        .where('status', 'not in', FINAL)
        .orderBy('created_at')
        .limit(limit)
        .execute();
      return rows.map(toRecord);
    },
    async idsOfTenant(tenantId, kind) {
      const rows = await db
        .selectFrom('runs')
        .select('id')
        .where('tenant_id', '=', tenantId)
        .where('kind', '=', kind)
        .orderBy('created_at')
        .execute();
      return rows.map((r) => r.id);
    },
    async delete(id) {
      // Steps and events go with it (ON DELETE CASCADE); deleted explicitly too, so it holds without FKs.
      const remove = async (trx: Kysely<Database>) => {
        await trx.deleteFrom('run_steps').where('run_id', '=', id).execute();
        await trx.deleteFrom('run_events').where('run_id', '=', id).execute();
        const r = await trx.deleteFrom('runs').where('id', '=', id).executeTakeFirst();
        return Number(r.numDeletedRows) > 0;
      };
      return db.isTransaction ? remove(db) : db.transaction().execute(remove);
    },
  };
}
