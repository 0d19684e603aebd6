import type { Migration } from './migration.js';

/**
 * Durable runs (see docs/runs.md): a job queue shared by every node, the runs themselves, their
 * checkpointed steps, the SSE events a background run emitted (for replay), human approvals, and the
 * single-writer lease of each conversation with its fencing token.
 */
export const runs: Migration = {
  name: '0007-runs',
  async up(db) {
    await db.schema
      .createTable('jobs')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('payload', 'text', (c) => c.notNull())
      // queued | running | done | failed
      .addColumn('status', 'text', (c) => c.notNull())
      // Bumped by every claim; doubles as the fencing token of the lease (a stale holder's writes miss).
      .addColumn('attempts', 'bigint', (c) => c.notNull())
      .addColumn('max_attempts', 'bigint', (c) => c.notNull())
      .addColumn('run_after', 'bigint', (c) => c.notNull())
      .addColumn('lease_owner', 'text')
      .addColumn('lease_expires_at', 'bigint')
      .addColumn('heartbeat', 'bigint')
      .addColumn('last_error', 'text')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('jobs_claim').on('jobs').columns(['status', 'run_after']).execute();
    await db.schema.createIndex('jobs_lease').on('jobs').columns(['status', 'lease_expires_at']).execute();

    await db.schema
      .createTable('runs')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('tenant_id', 'text', (c) => c.notNull())
      .addColumn('kind', 'text', (c) => c.notNull())
      // queued | in_progress | requires_action | completed | failed | incomplete | cancelled
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('conversation_id', 'text')
      // content: JSON input the run's handler needs to (re)start from scratch.
      .addColumn('input', 'text', (c) => c.notNull())
      .addColumn('output', 'text')
      .addColumn('error', 'text')
      .addColumn('cancel_requested_at', 'bigint')
      .addColumn('next_event_seq', 'bigint', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addColumn('completed_at', 'bigint')
      .execute();
    await db.schema.createIndex('runs_tenant').on('runs').columns(['tenant_id', 'created_at']).execute();

    await db.schema
      .createTable('run_steps')
      .addColumn('run_id', 'text', (c) => c.notNull().references('runs.id').onDelete('cascade'))
      .addColumn('step_index', 'bigint', (c) => c.notNull())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('name', 'text', (c) => c.notNull())
      // started | completed | failed
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('idempotency_key', 'text', (c) => c.notNull().unique())
      .addColumn('attempts', 'bigint', (c) => c.notNull())
      .addColumn('input', 'text')
      .addColumn('output', 'text')
      .addColumn('error', 'text')
      .addColumn('started_at', 'bigint', (c) => c.notNull())
      .addColumn('completed_at', 'bigint')
      .addPrimaryKeyConstraint('run_steps_pk', ['run_id', 'step_index'])
      .execute();

    await db.schema
      .createTable('run_events')
      .addColumn('run_id', 'text', (c) => c.notNull().references('runs.id').onDelete('cascade'))
      .addColumn('seq', 'bigint', (c) => c.notNull())
      .addColumn('type', 'text', (c) => c.notNull())
      // content: the SSE event's JSON.
      .addColumn('data', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('run_events_pk', ['run_id', 'seq'])
      .execute();

    await db.schema
      .createTable('approvals')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('tenant_id', 'text', (c) => c.notNull())
      .addColumn('run_id', 'text', (c) => c.notNull())
      .addColumn('step_index', 'bigint', (c) => c.notNull())
      // mcp | policy | safety: who demanded it.
      .addColumn('source', 'text', (c) => c.notNull())
      .addColumn('server_label', 'text')
      .addColumn('tool_name', 'text', (c) => c.notNull())
      // content: the tool call's arguments (JSON text as the model produced it).
      .addColumn('arguments', 'text', (c) => c.notNull())
      .addColumn('reason', 'text')
      // pending | approved | rejected
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('requested_by', 'text', (c) => c.notNull())
      .addColumn('decided_by', 'text')
      .addColumn('decided_role', 'text')
      .addColumn('decision_reason', 'text')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('decided_at', 'bigint')
      .execute();
    await db.schema
      .createIndex('approvals_run')
      .on('approvals')
      .columns(['run_id', 'step_index'])
      .unique()
      .execute();
    await db.schema
      .createIndex('approvals_tenant')
      .on('approvals')
      .columns(['tenant_id', 'status'])
      .execute();

    await db.schema
      .createTable('conversation_leases')
      .addColumn('conversation_id', 'text', (c) => c.primaryKey())
      .addColumn('holder', 'text')
      // Strictly increasing per conversation: each grant gets a larger token than every earlier one.
      .addColumn('token', 'bigint', (c) => c.notNull())
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      .execute();
  },
};
