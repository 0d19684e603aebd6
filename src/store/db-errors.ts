import { EnclaveError } from '../errors/index.js';

interface DriverError {
  code?: unknown;
  constraint?: unknown;
}

/**
 * Maps driver-specific constraint violations (SQLite and PostgreSQL) to EnclaveErrors with a message a
 * person can act on; anything else is rethrown untouched (and becomes a 500 with no SQL shown).
 */
export function translateDbError(error: unknown, what: string): never {
  const code = (error as DriverError | null)?.code;
  if (code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
    throw new EnclaveError('already_exists', `A ${what} with the same identity already exists.`, {
      cause: error,
    });
  }
  if (code === '23503' || code === 'SQLITE_CONSTRAINT_FOREIGNKEY') {
    throw new EnclaveError(
      'conflict',
      `The ${what} refers to something that does not exist (or is still referenced).`,
      {
        cause: error,
      },
    );
  }
  throw error;
}

/** Runs a write and translates constraint violations. */
export async function guarded<T>(what: string, write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (error) {
    return translateDbError(error, what);
  }
}
