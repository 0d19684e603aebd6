import type { Migration } from './migration.js';

/** Trusted-downgrade requests: a requester asks, a different reviewer approves or rejects (two-person rule). */
export const labelDowngrades: Migration = {
  name: '0010-label-downgrades',
  async up(db) {
    await db.schema
      .createTable('label_downgrades')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
      .addColumn('object_kind', 'text', (c) => c.notNull())
      .addColumn('object_id', 'text', (c) => c.notNull())
      .addColumn('from_label_id', 'text', (c) => c.notNull().references('labels.id'))
      .addColumn('to_label_id', 'text', (c) => c.notNull().references('labels.id'))
      .addColumn('requester', 'text', (c) => c.notNull())
      .addColumn('requester_on_behalf_of', 'text')
      .addColumn('reason', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('reviewer', 'text')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('decided_at', 'bigint')
      .execute();
    await db.schema
      .createIndex('label_downgrades_object')
      .on('label_downgrades')
      .columns(['tenant_id', 'object_id'])
      .execute();
  },
};
