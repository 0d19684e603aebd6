import type { Migration } from './migration.js';

/**
 * Memory text is sealed from here on (src/crypto/sealed-memory-repo.ts): `text`, `subject`, `attribute` and
 * `value` hold `ev1.…` ciphertexts and `memory_terms.term` holds keyed blind-index tokens. Equality lookups
 * that used to compare plaintext (a fact's subject+attribute, a duplicate's kind+text) go through keyed
 * hashes in `fact_key` / `text_key` instead. Rows written before this step hold plaintext that can neither
 * be sealed here (a migration has no keys) nor be left readable, so they are dropped: memory is derived
 * data — the conversations it was learned from stay, and `enclave memory import` rebuilds an import.
 */
export const memorySealed: Migration = {
  name: '0011-memory-sealed',
  async up(db) {
    for (const table of [
      'memory_terms',
      'memory_record_sources',
      'memory_records',
      'memory_sources',
      'memory_quarantine',
      'memory_jobs',
    ])
      await db.deleteFrom(table as never).execute();
    await db.schema.alterTable('memory_records').addColumn('fact_key', 'text').execute();
    await db.schema.alterTable('memory_records').addColumn('text_key', 'text').execute();
    await db.schema.dropIndex('memory_records_fact').execute();
    await db.schema
      .createIndex('memory_records_fact_key')
      .on('memory_records')
      .columns(['tenant_id', 'user_id', 'agent_id', 'fact_key'])
      .execute();
    await db.schema
      .createIndex('memory_records_text_key')
      .on('memory_records')
      .columns(['tenant_id', 'user_id', 'agent_id', 'text_key'])
      .execute();
  },
};
