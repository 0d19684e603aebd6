import { sql } from 'kysely';
import type { Migration } from './migration.js';

/**
 * The audit log: entries (leaves), signed checkpoints, and a one-row head holding the tree size and the
 * Merkle frontier. Appenders lock the head row first, so the next index is taken under a lock on both engines.
 */
export const audit: Migration = {
  name: '0002-audit',
  async up(db) {
    await db.schema
      .createTable('audit_entries')
      .addColumn('index', 'bigint', (c) => c.primaryKey())
      .addColumn('leaf_hash', 'text', (c) => c.notNull())
      .addColumn('entry', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('audit_checkpoints')
      .addColumn('tree_size', 'bigint', (c) => c.primaryKey())
      .addColumn('root_hash', 'text', (c) => c.notNull())
      .addColumn('time', 'bigint', (c) => c.notNull())
      .addColumn('key_id', 'text', (c) => c.notNull())
      .addColumn('signature', 'text', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('audit_head')
      .addColumn('id', 'integer', (c) => c.primaryKey())
      .addColumn('tree_size', 'bigint', (c) => c.notNull())
      .addColumn('frontier', 'text', (c) => c.notNull())
      .execute();
    await sql`insert into audit_head (id, tree_size, frontier) values (1, 0, '{"nodes":[],"size":0}')`.execute(
      db,
    );
  },
};
