import { createHash } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../schema.js';

export interface LabelEntry {
  id: string;
  canonical: string;
}

/**
 * The catalogue of distinct labels in use. Rows reference a label id; a reader's visible label ids are
 * computed once per clearance from this (small) catalogue and passed into queries as a ReadScope, so access
 * control happens inside the WHERE clause while the store itself knows nothing of the lattice.
 */
export interface LabelRepo {
  /** Registers a canonical label (idempotent) and returns its id. */
  ensure(canonical: string): Promise<string>;
  list(): Promise<LabelEntry[]>;
  byId(id: string): Promise<LabelEntry | undefined>;
}

/** Label ids are derived from the canonical form, so concurrent writers agree without coordination. */
export const labelId = (canonical: string): string =>
  'lbl_' + createHash('sha256').update(canonical).digest('hex').slice(0, 24);

export function labelRepo(db: Kysely<Database>): LabelRepo {
  return {
    async ensure(canonical) {
      const id = labelId(canonical);
      await db
        .insertInto('labels')
        .values({ id, canonical, created_at: Date.now() })
        .onConflict((oc) => oc.column('id').doNothing())
        .execute();
      return id;
    },
    async list() {
      return db.selectFrom('labels').select(['id', 'canonical']).orderBy('id').execute();
    },
    async byId(id) {
      return db.selectFrom('labels').select(['id', 'canonical']).where('id', '=', id).executeTakeFirst();
    },
  };
}
