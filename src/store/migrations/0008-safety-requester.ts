import type { Migration } from './migration.js';

/** Who sent a queued text, so the review API can refuse a reviewer deciding on their own request. */
export const safetyRequester: Migration = {
  name: '0008-safety-requester',
  async up(db) {
    await db.schema.alterTable('safety_reviews').addColumn('requester', 'text').execute();
  },
};
