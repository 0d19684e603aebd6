import { sql } from 'kysely';
import type { Migration } from './migration.js';

/**
 * Long-term memory. Ranking is our own BM25 over `memory_terms` (weighted term frequencies written by
 * src/memory's analyzer) so both engines rank identically and better than FTS5's unstemmed default or
 * Postgres' ts_rank (see docs/memory.md for the measurements). Every child row cascades from its record,
 * so forgetting a record leaves no orphan terms, links or vectors.
 */
export const memory: Migration = {
  name: '0005-memory',
  async up(db, dialect) {
    const blob = dialect === 'postgres' ? 'bytea' : 'blob';
    await db.schema
      .createTable('memory_sources')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
      .addColumn('user_id', 'text', (c) => c.notNull())
      .addColumn('agent_id', 'text', (c) => c.notNull())
      .addColumn('conversation_id', 'text', (c) => c.notNull())
      .addColumn('session', 'text', (c) => c.notNull())
      .addColumn('turn_id', 'text', (c) => c.notNull())
      .addColumn('seq', 'integer', (c) => c.notNull())
      .addColumn('speaker', 'text', (c) => c.notNull())
      .addColumn('text', 'text', (c) => c.notNull())
      .addColumn('label_id', 'text', (c) => c.notNull().references('labels.id'))
      .addColumn('occurred_at', 'bigint', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      // Set once the extraction job has read the turn; unset turns are what the next job picks up.
      .addColumn('extracted_at', 'bigint')
      .addUniqueConstraint('memory_sources_turn', [
        'tenant_id',
        'user_id',
        'agent_id',
        'conversation_id',
        'turn_id',
      ])
      .execute();
    await db.schema
      .createTable('memory_records')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
      .addColumn('user_id', 'text', (c) => c.notNull())
      .addColumn('agent_id', 'text', (c) => c.notNull())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('text', 'text', (c) => c.notNull())
      .addColumn('subject', 'text')
      .addColumn('attribute', 'text')
      .addColumn('value', 'text')
      .addColumn('conversation_id', 'text')
      .addColumn('source_ids', 'text', (c) => c.notNull())
      .addColumn('label_id', 'text', (c) => c.notNull().references('labels.id'))
      .addColumn('valid_from', 'bigint', (c) => c.notNull())
      .addColumn('valid_to', 'bigint')
      .addColumn('recorded_at', 'bigint', (c) => c.notNull())
      .addColumn('superseded_at', 'bigint')
      .addColumn('superseded_by', 'text')
      .addColumn('doc_len', 'double precision', (c) => c.notNull())
      .addColumn('embedding', sql.raw(blob))
      .execute();
    await db.schema
      .createIndex('memory_records_owner')
      .on('memory_records')
      .columns(['tenant_id', 'user_id', 'agent_id', 'recorded_at'])
      .execute();
    await db.schema
      .createIndex('memory_records_fact')
      .on('memory_records')
      .columns(['tenant_id', 'user_id', 'subject', 'attribute'])
      .execute();
    await db.schema
      .createTable('memory_record_sources')
      // tenant_id is denormalized so a forget can be checked for orphans per tenant.
      .addColumn('tenant_id', 'text', (c) => c.notNull())
      .addColumn('record_id', 'text', (c) => c.notNull().references('memory_records.id').onDelete('cascade'))
      .addColumn('source_id', 'text', (c) => c.notNull().references('memory_sources.id').onDelete('cascade'))
      .addPrimaryKeyConstraint('memory_record_sources_pk', ['record_id', 'source_id'])
      .execute();
    await db.schema
      .createIndex('memory_record_sources_source')
      .on('memory_record_sources')
      .column('source_id')
      .execute();
    await db.schema
      .createTable('memory_terms')
      .addColumn('record_id', 'text', (c) => c.notNull().references('memory_records.id').onDelete('cascade'))
      .addColumn('tenant_id', 'text', (c) => c.notNull())
      .addColumn('term', 'text', (c) => c.notNull())
      .addColumn('weight', 'double precision', (c) => c.notNull())
      .addPrimaryKeyConstraint('memory_terms_pk', ['record_id', 'term'])
      .execute();
    await db.schema
      .createIndex('memory_terms_lookup')
      .on('memory_terms')
      .columns(['tenant_id', 'term', 'record_id', 'weight'])
      .execute();
    await db.schema
      .createTable('memory_quarantine')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
      .addColumn('user_id', 'text', (c) => c.notNull())
      .addColumn('agent_id', 'text', (c) => c.notNull())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('text', 'text', (c) => c.notNull())
      .addColumn('reason', 'text', (c) => c.notNull())
      .addColumn('source_ids', 'text', (c) => c.notNull())
      .addColumn('label_id', 'text', (c) => c.notNull().references('labels.id'))
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('decided_at', 'bigint')
      .execute();
    await db.schema
      .createTable('memory_retention')
      .addColumn('tenant_id', 'text', (c) => c.primaryKey().references('tenants.id'))
      .addColumn('max_age_ms', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('memory_jobs')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
      .addColumn('user_id', 'text', (c) => c.notNull())
      .addColumn('agent_id', 'text', (c) => c.notNull())
      .addColumn('conversation_id', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('attempts', 'integer', (c) => c.notNull())
      .addColumn('last_error', 'text')
      .addColumn('run_after', 'bigint', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex('memory_jobs_due')
      .on('memory_jobs')
      .columns(['status', 'run_after'])
      .execute();
  },
};
