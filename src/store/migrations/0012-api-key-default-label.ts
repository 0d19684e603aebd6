import type { Migration } from './migration.js';

/**
 * A key's default label (canonical), applied to a request that carries no `Enclave-Classification`; null means
 * the key's clearance (system-high). Set by an admin with the key, never by a request.
 */
export const apiKeyDefaultLabel: Migration = {
  name: '0012-api-key-default-label',
  async up(db) {
    await db.schema.alterTable('api_keys').addColumn('default_label', 'text').execute();
  },
};
