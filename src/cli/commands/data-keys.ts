import type { Command } from 'commander';
import type { Services } from '../../app/services.js';
import { EnclaveError } from '../../errors/index.js';
import type { AuditSink } from '../../crypto/audit-sink.js';
import { DataKeys } from '../../crypto/data-keys.js';
import { keyProviderFor } from '../../crypto/key-provider-from-env.js';
import { retireKeys, rewrapKeys, rotateKeys, strandedBelow } from '../../crypto/key-lifecycle.js';
import { rewrapSqliteKey, sqliteKeyVersion } from '../../crypto/sqlite-key.js';
import { withServices } from '../context.js';

/** Where the CLI finds the audit log; key changes are refused (fail-closed) without one. */
export type AuditFor = (services: Services) => AuditSink | undefined;

const servicesAudit: AuditFor = (services) => services.audit;

async function withDataKeys<T>(
  command: Command,
  auditFor: AuditFor,
  run: (keys: DataKeys, dataDir: string) => Promise<T>,
): Promise<T> {
  return withServices(command, async (services) => {
    const audit = auditFor(services);
    if (!audit)
      throw new EnclaveError(
        'audit_unavailable',
        'Key changes must be audited, and no audit log is configured.',
      );
    const provider = keyProviderFor(services.config.dataDir);
    return run(new DataKeys({ repo: services.store.dataKeys, provider, audit }), services.config.dataDir);
  });
}

/** Adds the data-key subcommands (`rotate`, `rewrap`, `retire`) to the `keys` command group. */
export function addDataKeyCommands(keys: Command, auditFor: AuditFor = servicesAudit): Command {
  keys
    .command('rotate')
    .description('Make a new key-encryption-key version current; new data keys (new writes) use it.')
    .action(async (_opts: unknown, command: Command) => {
      await withDataKeys(command, auditFor, async (dataKeys) => {
        process.stdout.write(JSON.stringify({ version: await rotateKeys(dataKeys) }) + '\n');
      });
    });

  keys
    .command('rewrap')
    .description(
      'Re-wrap every data key (and the SQLite key) under the current KEK version, without decrypting content.',
    )
    .action(async (_opts: unknown, command: Command) => {
      await withDataKeys(command, auditFor, async (dataKeys, dataDir) => {
        const result = await rewrapKeys(dataKeys);
        const sqliteKey = await rewrapSqliteKey(dataDir, dataKeys.provider);
        process.stdout.write(JSON.stringify({ ...result, sqliteKeyRewrapped: sqliteKey }) + '\n');
        if (result.failed.length > 0) {
          throw new EnclaveError(
            'conflict',
            `${result.failed.length} data keys could not be rewrapped (first: ${result.failed[0]?.reason}).`,
          );
        }
      });
    });

  keys
    .command('retire')
    .description('Raise the minimum decryption version: data keys still wrapped below it become unreadable.')
    .requiredOption('--below <version>', 'retire every KEK version below this one')
    .option('--force', 'retire even if some data would become unreadable (crypto-shreds it)')
    .action(async (opts: { below: string; force?: boolean }, command: Command) => {
      const below = Number(opts.below);
      if (!Number.isInteger(below) || below < 1)
        throw new EnclaveError(
          'invalid_request',
          `--below must be a positive integer (got '${opts.below}').`,
        );
      await withDataKeys(command, auditFor, async (dataKeys, dataDir) => {
        const sqliteVersion = sqliteKeyVersion(dataDir);
        if (sqliteVersion !== undefined && sqliteVersion < below) {
          throw new EnclaveError(
            'conflict',
            `The SQLite key is wrapped under version ${sqliteVersion}: run \`enclave keys rewrap\` first.`,
          );
        }
        const stranded = await strandedBelow(dataKeys, below);
        if (stranded > 0 && !opts.force) {
          throw new EnclaveError(
            'conflict',
            `${stranded} data keys are still wrapped below version ${below}; run \`enclave keys rewrap\` first, or pass --force to make their data unreadable.`,
          );
        }
        process.stdout.write(
          JSON.stringify({ minDecryptVersion: below, ...(await retireKeys(dataKeys, below)) }) + '\n',
        );
      });
    });

  return keys;
}
