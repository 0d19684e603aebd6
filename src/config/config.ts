import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import { EnclaveError } from '../errors/index.js';

/**
 * Runtime configuration: global flags and environment (see CONTRACT.md) plus an optional JSON file
 * (`ENCLAVE_CONFIG`, default `<dataDir>/config.json`). Each domain parses its own section of the file
 * (`models`, `oidc`, `audit`, …) with its own schema, so this module stays small and knows no domain.
 */
export interface Config {
  dataDir: string;
  databaseUrl: string | undefined;
  host: string;
  port: number;
  /** Largest accepted request body in bytes. */
  bodyLimit: number;
  logLevel: string;
  /** Durable-run workers of this process: runs executed at once, and the lease a dead worker's run waits out. */
  runs: { concurrency: number; leaseMs: number };
  /** Raw sections of the JSON config file, keyed by domain. */
  file: Readonly<Record<string, unknown>>;
}

export interface ConfigFlags {
  dataDir?: string | undefined;
  databaseUrl?: string | undefined;
  host?: string | undefined;
  port?: string | number | undefined;
}

const envSchema = z.object({
  ENCLAVE_DATA_DIR: z.string().min(1).optional(),
  DATABASE_URL: z.string().min(1).optional(),
  HOST: z.string().min(1).optional(),
  PORT: z.coerce.number().int().min(0).max(65535).optional(),
  ENCLAVE_BODY_LIMIT: z.coerce.number().int().positive().optional(),
  ENCLAVE_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).optional(),
  ENCLAVE_CONFIG: z.string().min(1).optional(),
  ENCLAVE_RUN_CONCURRENCY: z.coerce.number().int().min(1).max(1024).optional(),
  ENCLAVE_RUN_LEASE_MS: z.coerce.number().int().min(1000).max(3_600_000).optional(),
});

export function loadConfig(flags: ConfigFlags = {}, env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new EnclaveError(
      'invalid_request',
      `Invalid environment variable ${String(issue?.path[0])}: ${issue?.message}.`,
    );
  }
  const e = parsed.data;
  const port = flags.port === undefined ? (e.PORT ?? 8080) : Number(flags.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new EnclaveError(
      'invalid_request',
      `Invalid port '${String(flags.port)}': use an integer from 0 to 65535.`,
    );
  }
  const dataDir = resolve(flags.dataDir ?? e.ENCLAVE_DATA_DIR ?? './.enclave');
  const databaseUrl = flags.databaseUrl ?? e.DATABASE_URL;
  if (databaseUrl !== undefined && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new EnclaveError(
      'invalid_request',
      'DATABASE_URL must start with postgres:// (leave it unset for SQLite).',
    );
  }
  return {
    dataDir,
    databaseUrl,
    host: flags.host ?? e.HOST ?? '127.0.0.1',
    port,
    bodyLimit: e.ENCLAVE_BODY_LIMIT ?? 4 * 1024 * 1024,
    logLevel: e.ENCLAVE_LOG_LEVEL ?? 'info',
    runs: { concurrency: e.ENCLAVE_RUN_CONCURRENCY ?? 8, leaseMs: e.ENCLAVE_RUN_LEASE_MS ?? 30_000 },
    file: readConfigFile(e.ENCLAVE_CONFIG ?? resolve(dataDir, 'config.json'), e.ENCLAVE_CONFIG !== undefined),
  };
}

function readConfigFile(path: string, required: boolean): Record<string, unknown> {
  if (!existsSync(path)) {
    if (required) throw new EnclaveError('invalid_request', `Config file ${path} does not exist.`);
    return {};
  }
  try {
    const value: unknown = JSON.parse(readFileSync(path, 'utf8'));
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('not an object');
    return value as Record<string, unknown>;
  } catch (cause) {
    throw new EnclaveError('invalid_request', `Config file ${path} is not a JSON object.`, { cause });
  }
}

/** Parses one section of the config file with the owning domain's schema; a bad section names itself. */
export function configSection<T extends z.ZodType>(config: Config, name: string, schema: T): z.output<T> {
  const result = schema.safeParse(config.file[name] ?? {});
  if (!result.success) {
    const issue = result.error.issues[0];
    const where = [name, ...(issue?.path ?? [])].join('.');
    throw new EnclaveError('invalid_request', `Invalid config at ${where}: ${issue?.message}.`);
  }
  return result.data;
}
