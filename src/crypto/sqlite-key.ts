import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  linkSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { z } from 'zod';
import { EnclaveError } from '../errors/index.js';
import { KEY_BYTES } from './aes-gcm.js';
import type { KeyProvider, WrapContext } from './key-provider.js';
import { keyProviderFor } from './key-provider-from-env.js';

const fileSchema = z.object({
  format: z.literal(1),
  provider: z.string(),
  kekVersion: z.number().int().positive(),
  wrapped: z.string().min(1),
});
type SqliteKeyFile = z.infer<typeof fileSchema>;

// The whole-file key is a data key like any other, wrapped by the KEK; only its context differs.
const context: WrapContext = { tenant: '_system', scope: 'sqlite-file', keyId: 'sqlite-file' };

export interface SqliteKeyOptions {
  provider?: KeyProvider;
  env?: NodeJS.ProcessEnv;
  /** The database file name in the data dir, to refuse making a new key for an existing database. */
  databaseFile?: string;
}

/** `ENCLAVE_SQLITE_KEY_FILE`, or `<dataDir>/keys/sqlite.key`. */
export const sqliteKeyPath = (dataDir: string, env: NodeJS.ProcessEnv = process.env): string =>
  env.ENCLAVE_SQLITE_KEY_FILE ? resolve(env.ENCLAVE_SQLITE_KEY_FILE) : join(dataDir, 'keys', 'sqlite.key');

/**
 * The 32-byte SQLCipher key of the embedded database, for `openStore({ sqliteKey })`. It is random,
 * made on first use, and stored only wrapped by the key provider (mode 0600), so the key file alone
 * (or with the database) is useless without the KEK — with AWS KMS, without KMS.
 */
export async function sqliteKeyFor(dataDir: string, options: SqliteKeyOptions = {}): Promise<Buffer> {
  const env = options.env ?? process.env;
  const provider = options.provider ?? keyProviderFor(dataDir, env);
  const path = sqliteKeyPath(dataDir, env);
  const existing = readKeyFile(path);
  if (existing) return unwrapFile(existing, provider, path);
  const database = join(dataDir, options.databaseFile ?? 'enclave.db');
  if (existsSync(database)) {
    throw new EnclaveError(
      'unavailable',
      `The database ${database} exists but its key file ${path} does not: restore the key file ` +
        '(a database made before encryption was enabled must be exported and re-imported).',
    );
  }
  const made = await provider.generateDataKey(context);
  const file: SqliteKeyFile = {
    format: 1,
    provider: provider.name,
    kekVersion: made.kekVersion,
    wrapped: made.wrapped.toString('base64url'),
  };
  const temp = writeTemp(path, file);
  try {
    linkSync(temp, path);
  } catch (error) {
    if ((error as { code?: string }).code !== 'EEXIST') throw error;
  } finally {
    rmSync(temp, { force: true });
  }
  // Whoever created the file first wins; read it back so every process uses the same key.
  const stored = readKeyFile(path);
  if (!stored) throw new EnclaveError('unavailable', `SQLite key file ${path} could not be created.`);
  return unwrapFile(stored, provider, path);
}

/** The KEK version wrapping the SQLite key, or undefined when there is no key file. */
export function sqliteKeyVersion(dataDir: string, env: NodeJS.ProcessEnv = process.env): number | undefined {
  return readKeyFile(sqliteKeyPath(dataDir, env))?.kekVersion;
}

/** Re-wraps the SQLite key under the current KEK version (the database itself is untouched). */
export async function rewrapSqliteKey(
  dataDir: string,
  provider: KeyProvider,
  env: NodeJS.ProcessEnv = process.env,
): Promise<boolean> {
  const path = sqliteKeyPath(dataDir, env);
  const file = readKeyFile(path);
  if (!file || file.kekVersion >= (await provider.currentVersion())) return false;
  const key = await unwrapFile(file, provider, path);
  const wrapped = await provider.wrap(key, context);
  renameSync(
    writeTemp(path, {
      ...file,
      kekVersion: wrapped.kekVersion,
      wrapped: wrapped.wrapped.toString('base64url'),
    }),
    path,
  );
  return true;
}

function readKeyFile(path: string): SqliteKeyFile | undefined {
  if (!existsSync(path)) return undefined;
  chmodSync(path, 0o600);
  let parsed: ReturnType<typeof fileSchema.safeParse>;
  try {
    parsed = fileSchema.safeParse(JSON.parse(readFileSync(path, 'utf8')));
  } catch {
    parsed = fileSchema.safeParse(undefined);
  }
  if (!parsed.success)
    throw new EnclaveError('unavailable', `SQLite key file ${path} is damaged; restore it from a backup.`);
  return parsed.data;
}

async function unwrapFile(file: SqliteKeyFile, provider: KeyProvider, path: string): Promise<Buffer> {
  if (file.provider !== provider.name) {
    throw new EnclaveError(
      'unavailable',
      `SQLite key file ${path} was wrapped by the '${file.provider}' key provider, not '${provider.name}'.`,
    );
  }
  const key = await provider.unwrap(
    { kekVersion: file.kekVersion, wrapped: Buffer.from(file.wrapped, 'base64url') },
    context,
  );
  if (key.length !== KEY_BYTES)
    throw new EnclaveError('unavailable', `SQLite key file ${path} does not hold a 32-byte key.`);
  return key;
}

function writeTemp(path: string, file: SqliteKeyFile): string {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const temp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  writeFileSync(temp, JSON.stringify(file) + '\n', { mode: 0o600, flag: 'wx' });
  return temp;
}
