import type { Kysely } from 'kysely';

export type Dialect = 'sqlite' | 'postgres';

/** One schema step. `dialect` lets a step add engine-specific objects (FTS5 tables, tsvector indexes). */
export interface Migration {
  name: string;
  up(db: Kysely<unknown>, dialect: Dialect): Promise<void>;
}
