import { sql } from 'kysely';
import type { Migration } from './migration.js';

/** Safety verdicts (every decision, no text) and the review queue (flagged items with their text, for humans). */
export const safety: Migration = {
  name: '0004-safety',
  async up(db) {
    await db.schema
      .createTable('safety_verdicts')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('tenant_id', 'text', (c) => c.notNull())
      .addColumn('surface', 'text', (c) => c.notNull())
      .addColumn('subject', 'text')
      .addColumn('action', 'text', (c) => c.notNull())
      .addColumn('flagged', 'integer', (c) => c.notNull())
      .addColumn('score', 'double precision', (c) => c.notNull())
      .addColumn('categories', 'text', (c) => c.notNull())
      .addColumn('policy_version', 'text', (c) => c.notNull())
      .addColumn('model_version', 'text', (c) => c.notNull())
      .addColumn('text_sha256', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex('safety_verdicts_tenant_time')
      .on('safety_verdicts')
      .columns(['tenant_id', 'created_at'])
      .execute();
    await db.schema
      .createTable('safety_reviews')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('tenant_id', 'text', (c) => c.notNull())
      .addColumn('verdict_id', 'text', (c) => c.notNull().references('safety_verdicts.id'))
      .addColumn('label_id', 'text')
      .addColumn('surface', 'text', (c) => c.notNull())
      .addColumn('text', 'text', (c) => c.notNull())
      .addColumn('action', 'text', (c) => c.notNull())
      .addColumn('categories', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull().defaultTo(sql`'pending'`))
      .addColumn('decision_categories', 'text')
      .addColumn('reviewer', 'text')
      .addColumn('note', 'text')
      .addColumn('decided_at', 'bigint')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex('safety_reviews_queue')
      .on('safety_reviews')
      .columns(['tenant_id', 'status', 'created_at'])
      .execute();
  },
};
