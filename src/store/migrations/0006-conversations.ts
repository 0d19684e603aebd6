import type { Migration } from './migration.js';

/**
 * Conversations, their items and responses. Every row carries tenant_id and label_id (MAC happens in the
 * WHERE clause). Content lives in a few clearly named text columns so the encryption layer can wrap them:
 * conversations.metadata, items.content, responses.{instructions, metadata, tools, error}.
 */
export const conversations: Migration = {
  name: '0006-conversations',
  async up(db) {
    await db.schema
      .createTable('conversations')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
      // The container label: the ceiling of what may be written into it (no write down).
      .addColumn('label_id', 'text', (c) => c.notNull().references('labels.id'))
      // The high-water mark: lub of every item written so far; always dominated by label_id.
      .addColumn('high_water_label_id', 'text', (c) => c.notNull().references('labels.id'))
      .addColumn('metadata', 'text', (c) => c.notNull())
      .addColumn('next_position', 'bigint', (c) => c.notNull())
      .addColumn('principal', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex('conversations_tenant')
      .on('conversations')
      .columns(['tenant_id', 'created_at'])
      .execute();

    await db.schema
      .createTable('items')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
      .addColumn('label_id', 'text', (c) => c.notNull().references('labels.id'))
      .addColumn('conversation_id', 'text', (c) => c.references('conversations.id').onDelete('cascade'))
      .addColumn('response_id', 'text')
      .addColumn('position', 'bigint', (c) => c.notNull())
      .addColumn('type', 'text', (c) => c.notNull())
      .addColumn('role', 'text')
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('call_id', 'text')
      .addColumn('content', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex('items_conversation')
      .on('items')
      .columns(['conversation_id', 'position'])
      .execute();
    await db.schema.createIndex('items_response').on('items').columns(['response_id']).execute();

    await db.schema
      .createTable('responses')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
      .addColumn('label_id', 'text', (c) => c.notNull().references('labels.id'))
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('model', 'text', (c) => c.notNull())
      .addColumn('endpoint', 'text')
      .addColumn('provider', 'text')
      .addColumn('principal', 'text', (c) => c.notNull())
      .addColumn('previous_response_id', 'text')
      .addColumn('conversation_id', 'text')
      .addColumn('input_item_ids', 'text', (c) => c.notNull())
      .addColumn('context_item_ids', 'text', (c) => c.notNull())
      .addColumn('output_item_ids', 'text', (c) => c.notNull())
      .addColumn('params', 'text', (c) => c.notNull())
      .addColumn('instructions', 'text')
      .addColumn('tools', 'text', (c) => c.notNull())
      .addColumn('metadata', 'text', (c) => c.notNull())
      .addColumn('usage', 'text')
      .addColumn('error', 'text')
      .addColumn('incomplete_reason', 'text')
      .addColumn('latency_ms', 'bigint')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('completed_at', 'bigint')
      .execute();
    await db.schema
      .createIndex('responses_tenant')
      .on('responses')
      .columns(['tenant_id', 'created_at'])
      .execute();
  },
};
