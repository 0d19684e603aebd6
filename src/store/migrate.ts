import { Migrator, type Kysely } from 'kysely';
import { EnclaveError } from '../errors/index.js';
import { migrations } from './migrations/index.js';
import type { Dialect } from './migrations/migration.js';

/** Brings the schema up to date; safe to run from several processes at once (Kysely takes a lock). */
export async function migrateToLatest(db: Kysely<unknown>, dialect: Dialect): Promise<void> {
  const migrator = new Migrator({
    db,
    provider: {
      getMigrations: async () =>
        Object.fromEntries(migrations.map((m) => [m.name, { up: (d: Kysely<unknown>) => m.up(d, dialect) }])),
    },
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new EnclaveError('unavailable', `Database migration ${failed} failed.`, { cause: error });
  }
}
