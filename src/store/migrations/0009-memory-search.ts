import { sql } from 'kysely';
import type { Migration } from './migration.js';

/**
 * Memory search without the per-posting record lookup: the reader filters (owner axes, label, kind, whether
 * the record is current) and the BM25 length are copied onto every `memory_terms` row, so a search is one
 * range scan of a covering index per query term. Also links a memory source to the conversation item it
 * was stored as (turns now live in the conversation store; `turn_id` stays the caller's id).
 */
export const memorySearch: Migration = {
  name: '0009-memory-search',
  async up(db) {
    const add = (column: string, type: 'text' | 'integer' | 'double precision', fallback: string | number) =>
      db.schema
        .alterTable('memory_terms')
        .addColumn(column, type, (c) => c.notNull().defaultTo(fallback))
        .execute();
    await add('user_id', 'text', '');
    await add('agent_id', 'text', '');
    await add('label_id', 'text', '');
    await add('kind', 'text', '');
    // 1 while the record is current, 0 once superseded (history is only searched when asked for).
    await add('current', 'integer', 1);
    await add('doc_len', 'double precision', 0);
    await sql`update memory_terms set
      user_id = (select r.user_id from memory_records r where r.id = memory_terms.record_id),
      agent_id = (select r.agent_id from memory_records r where r.id = memory_terms.record_id),
      label_id = (select r.label_id from memory_records r where r.id = memory_terms.record_id),
      kind = (select r.kind from memory_records r where r.id = memory_terms.record_id),
      current = (select case when r.superseded_at is null then 1 else 0 end from memory_records r where r.id = memory_terms.record_id),
      doc_len = (select r.doc_len from memory_records r where r.id = memory_terms.record_id)`.execute(db);
    await db.schema.dropIndex('memory_terms_lookup').execute();
    await db.schema
      .createIndex('memory_terms_search')
      .on('memory_terms')
      .columns([
        'tenant_id',
        'term',
        'user_id',
        'agent_id',
        'label_id',
        'current',
        'kind',
        'record_id',
        'weight',
        'doc_len',
      ])
      .execute();
    await db.schema.alterTable('memory_sources').addColumn('item_id', 'text').execute();
  },
};
