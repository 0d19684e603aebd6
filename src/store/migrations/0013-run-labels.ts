import { sql, type Kysely } from 'kysely';
import { labelId } from '../repos/label-repo.js';
import type { Migration } from './migration.js';

const tables = ['runs', 'run_steps', 'run_events', 'approvals'] as const;

/**
 * Labels on durable-run rows (runs, their steps, recorded stream events and approvals), so every read that
 * serves a principal filters `label_id IN (…)` inside its query (docs/runs.md, "Labels").
 *
 * The column is nullable in the DDL (SQLite cannot add a NOT NULL column without a default) but every write
 * sets it. Backfill: a run takes its response's label; a run without a stored response (still queued, running
 * or parked) takes the clearance of the API key that requested its approval (what the old clearance check
 * compared against); anything else stays NULL, which no ReadScope matches (invisible, fail closed) until the
 * worker resumes the run and labels it. Steps, events and approvals take their run's label.
 */
export const runLabels: Migration = {
  name: '0013-run-labels',
  async up(db) {
    for (const table of tables) {
      await db.schema
        .alterTable(table)
        .addColumn('label_id', 'text', (c) => c.references('labels.id'))
        .execute();
    }
    const q = db as Kysely<Record<string, Record<string, unknown>>>;
    await sql`UPDATE runs SET label_id = (SELECT r.label_id FROM responses r WHERE r.id = runs.id)
              WHERE label_id IS NULL`.execute(db);
    const unlabelled = await sql<{ id: string; clearance: string }>`
      SELECT DISTINCT a.run_id AS id, k.clearance AS clearance FROM approvals a
      JOIN runs r ON r.id = a.run_id JOIN api_keys k ON k.id = a.requested_by
      WHERE r.label_id IS NULL`.execute(db);
    for (const row of unlabelled.rows) {
      const id = labelId(row.clearance);
      await q
        .insertInto('labels')
        .values({ id, canonical: row.clearance, created_at: Date.now() })
        .onConflict((oc) => oc.column('id').doNothing())
        .execute();
      await q
        .updateTable('runs')
        .set({ label_id: id })
        .where('id', '=', row.id)
        .where('label_id', 'is', null)
        .execute();
    }
    for (const table of ['run_steps', 'run_events', 'approvals'] as const) {
      await sql`UPDATE ${sql.table(table)} SET label_id = (SELECT r.label_id FROM runs r WHERE r.id = ${sql.ref(`${table}.run_id`)})
                WHERE label_id IS NULL`.execute(db);
    }
    await db.schema.createIndex('runs_tenant_label').on('runs').columns(['tenant_id', 'label_id']).execute();
  },
};
