import type { Migration } from './migration.js';

/**
 * Wrapped data keys. No foreign key to tenants: keys may be made before a tenant row is (the runtime
 * seals while it writes), and shredding must be able to delete them independently of any content row.
 */
export const dataKeys: Migration = {
  name: '0003-data-keys',
  async up(db) {
    await db.schema
      .createTable('data_keys')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('tenant_id', 'text', (c) => c.notNull())
      .addColumn('scope', 'text', (c) => c.notNull())
      .addColumn('generation', 'integer', (c) => c.notNull())
      .addColumn('kek_version', 'integer', (c) => c.notNull())
      .addColumn('provider', 'text', (c) => c.notNull())
      .addColumn('wrapped', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('rewrapped_at', 'bigint')
      // One key per scope and generation, so concurrent first writers of a scope agree on one key.
      .addUniqueConstraint('data_keys_scope_generation', ['tenant_id', 'scope', 'generation'])
      .execute();
    // Rewrap and retire look keys up by the KEK version that wraps them.
    await db.schema
      .createIndex('data_keys_kek_version')
      .on('data_keys')
      .columns(['kek_version', 'id'])
      .execute();
  },
};
