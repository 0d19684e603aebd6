import { sql, type Kysely, type Selectable } from 'kysely';
import type { Dialect } from '../migrations/migration.js';
import type { JobTable } from '../run-schema.js';
import type { Database } from '../schema.js';

export type JobStatus = 'queued' | 'running' | 'done' | 'failed';

export interface Job {
  id: string;
  kind: string;
  payload: unknown;
  status: JobStatus;
  /** Claims so far; the value at claim time is the fencing token every later write of that holder carries. */
  attempts: number;
  maxAttempts: number;
  runAfter: number;
  leaseOwner: string | null;
  leaseExpiresAt: number | null;
  heartbeat: number | null;
  lastError: string | null;
  createdAt: number;
}

export interface NewJob {
  id: string;
  kind: string;
  payload: unknown;
  maxAttempts?: number;
  runAfter?: number;
}

/** Who holds a claimed job: the owner plus the attempt number it was claimed with (the fencing token). */
export interface JobLease {
  id: string;
  owner: string;
  attempt: number;
}

/**
 * The job queue shared by every node. A claim hands out queued jobs that are due and running jobs whose
 * lease expired (their worker died); every later write names the lease it holds, so a worker that lost
 * its lease (and whose job someone else reclaimed) changes nothing.
 */
export interface JobRepo {
  enqueue(job: NewJob, now?: number): Promise<void>;
  /** Enqueues unless a job with this id exists; returns whether it was added. */
  enqueueOnce(job: NewJob, now?: number): Promise<boolean>;
  byId(id: string): Promise<Job | undefined>;
  claim(owner: string, limit: number, leaseMs: number, now?: number): Promise<Job[]>;
  /** Extends the lease; false when it was lost (expired and reclaimed, or finished elsewhere). */
  heartbeat(lease: JobLease, leaseMs: number, now?: number): Promise<boolean>;
  complete(lease: JobLease, now?: number): Promise<boolean>;
  /** Gives the job back for another attempt at `runAfter`, or fails it when attempts are used up. */
  retry(lease: JobLease, error: string, runAfter: number, now?: number): Promise<boolean>;
  fail(lease: JobLease, error: string, now?: number): Promise<boolean>;
  /**
   * Puts a finished job back in the queue (a parked run got its approval). A running job is left alone;
   * returns whether the job was requeued.
   */
  requeue(id: string, now?: number): Promise<boolean>;
  /** Expires the leases of owners that are known dead (e.g. a killed process on this host). */
  expireLeasesOf(owners: readonly string[], now?: number): Promise<number>;
  /** Owners currently holding running leases (to find dead local workers). */
  runningOwners(): Promise<string[]>;
  countByStatus(kind?: string): Promise<Record<string, number>>;
}

const toJob = (row: Selectable<JobTable>): Job => ({
  id: row.id,
  kind: row.kind,
  payload: JSON.parse(row.payload) as unknown,
  status: row.status as JobStatus,
  attempts: Number(row.attempts),
  maxAttempts: Number(row.max_attempts),
  runAfter: Number(row.run_after),
  leaseOwner: row.lease_owner,
  leaseExpiresAt: row.lease_expires_at === null ? null : Number(row.lease_expires_at),
  heartbeat: row.heartbeat === null ? null : Number(row.heartbeat),
  lastError: row.last_error,
  createdAt: Number(row.created_at),
});

export function jobRepo(db: Kysely<Database>, dialect: Dialect): JobRepo {
  const values = (job: NewJob, now: number) => ({
    id: job.id,
    kind: job.kind,
    payload: JSON.stringify(job.payload ?? null),
    status: 'queued',
    attempts: 0,
    max_attempts: job.maxAttempts ?? 5,
    run_after: job.runAfter ?? now,
    lease_owner: null,
    lease_expires_at: null,
    heartbeat: null,
    last_error: null,
    created_at: now,
    updated_at: now,
  });
  const held = (lease: JobLease) =>
    db
      .updateTable('jobs')
      .where('id', '=', lease.id)
      .where('lease_owner', '=', lease.owner)
      .where('attempts', '=', lease.attempt)
      .where('status', '=', 'running');
  const changed = (r: { numUpdatedRows: bigint }) => Number(r.numUpdatedRows) > 0;

  return {
    async enqueue(job, now = Date.now()) {
      await db.insertInto('jobs').values(values(job, now)).execute();
    },
    async enqueueOnce(job, now = Date.now()) {
      const r = await db
        .insertInto('jobs')
        .values(values(job, now))
        .onConflict((oc) => oc.column('id').doNothing())
        .executeTakeFirst();
      return Number(r.numInsertedOrUpdatedRows ?? 0) > 0;
    },
    async byId(id) {
      const row = await db.selectFrom('jobs').selectAll().where('id', '=', id).executeTakeFirst();
      return row && toJob(row);
    },
    async claim(owner, limit, leaseMs, now = Date.now()) {
      // One statement picks and takes the jobs: on PostgreSQL the sub-select row-locks them and skips
      // rows another claimer holds (SKIP LOCKED), so concurrent claimers never get the same job; on SQLite
      // the single UPDATE runs under the database's write lock, which serializes claimers.
      const due = sql`(status = 'queued' AND run_after <= ${now}) OR (status = 'running' AND lease_expires_at < ${now})`;
      const lock = dialect === 'postgres' ? sql`FOR UPDATE SKIP LOCKED` : sql``;
      const result = await sql<Selectable<JobTable>>`
        UPDATE jobs SET status = 'running', lease_owner = ${owner}, lease_expires_at = ${now + leaseMs},
          heartbeat = ${now}, attempts = attempts + 1, updated_at = ${now}
        WHERE id IN (SELECT id FROM jobs WHERE ${due} ORDER BY run_after, created_at LIMIT ${limit} ${lock})
        RETURNING *`.execute(db);
      return result.rows.map(toJob).sort((a, b) => a.runAfter - b.runAfter || a.createdAt - b.createdAt);
    },
    async heartbeat(lease, leaseMs, now = Date.now()) {
      return changed(
        await held(lease)
          .set({ lease_expires_at: now + leaseMs, heartbeat: now, updated_at: now })
          .executeTakeFirst(),
      );
    },
    async complete(lease, now = Date.now()) {
      return changed(
        await held(lease)
          .set({ status: 'done', lease_owner: null, lease_expires_at: null, updated_at: now })
          .executeTakeFirst(),
      );
    },
    async retry(lease, error, runAfter, now = Date.now()) {
      const r = await held(lease)
        .set((eb) => ({
          status: eb
            .case()
            .when('attempts', '>=', eb.ref('max_attempts'))
            .then('failed')
            .else('queued')
            .end(),
          run_after: runAfter,
          lease_owner: null,
          lease_expires_at: null,
          last_error: error,
          updated_at: now,
        }))
        .executeTakeFirst();
      return changed(r);
    },
    async fail(lease, error, now = Date.now()) {
      return changed(
        await held(lease)
          .set({
            status: 'failed',
            lease_owner: null,
            lease_expires_at: null,
            last_error: error,
            updated_at: now,
          })
          .executeTakeFirst(),
      );
    },
    async requeue(id, now = Date.now()) {
      const r = await db
        .updateTable('jobs')
        .set((eb) => ({
          status: 'queued',
          run_after: now,
          // Attempts keep counting (they are the fencing token); the requeued job gets a fresh budget.
          max_attempts: eb('attempts', '+', 5),
          last_error: null,
          updated_at: now,
        }))
        .where('id', '=', id)
        .where('status', 'in', ['done', 'failed'])
        .executeTakeFirst();
      return changed(r);
    },
    async expireLeasesOf(owners, now = Date.now()) {
      if (owners.length === 0) return 0;
      const r = await db
        .updateTable('jobs')
        .set({ lease_expires_at: now - 1, updated_at: now })
        .where('status', '=', 'running')
        .where('lease_owner', 'in', [...owners])
        .executeTakeFirst();
      return Number(r.numUpdatedRows);
    },
    async runningOwners() {
      const rows = await db
        .selectFrom('jobs')
        .select('lease_owner')
        .distinct()
        .where('status', '=', 'running')
        .execute();
      return rows.flatMap((r) => (r.lease_owner === null ? [] : [r.lease_owner]));
    },
    async countByStatus(kind) {
      let q = db
        .selectFrom('jobs')
        .select(['status', (eb) => eb.fn.countAll<number | string>().as('n')])
        .groupBy('status');
      if (kind !== undefined) q = q.where('kind', '=', kind);
      const rows = await q.execute();
      return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
    },
  };
}
