import { Command, Option } from 'commander';
import { EnclaveError } from '../../errors/index.js';
import { createApiKey } from '../../identity/api-keys.js';
import { roles, type Role } from '../../identity/principal.js';
import type { Services } from '../../app/services.js';
import { canonicalLabel, parseBanner, UNCLASSIFIED } from '../../labels/index.js';
import { withServices } from '../context.js';
import { addDataKeyCommands } from './data-keys.js';

const parseExpiry = (value: string): number => {
  const time = Date.parse(value);
  if (Number.isNaN(time))
    throw new EnclaveError('invalid_request', `--expires '${value}' is not a date (use ISO 8601).`);
  return time;
};

/**
 * Audits an API-key change made from the CLI. A creation that cannot be audited is undone by revoking the
 * key at once (fail-closed): an unaudited key must never work.
 */
async function auditKeyChange(
  services: Services,
  type: 'key.create' | 'key.revoke',
  tenant: string,
  keyId: string,
  clearance: string,
): Promise<void> {
  try {
    await services.audit.append({
      type,
      time: Date.now(),
      tenant,
      principal: 'cli',
      decision: 'allow',
      objectId: keyId,
      objectLabel: clearance,
      label: canonicalLabel(UNCLASSIFIED),
    });
  } catch (error) {
    if (type === 'key.create') await services.store.apiKeys.revoke(tenant, keyId);
    throw error;
  }
}

export function keysCommand(): Command {
  const keys = new Command('keys').description(
    'API keys (create, list, revoke) and encryption keys (rotate, rewrap, retire).',
  );

  keys
    .command('create')
    .description('Create an API key and print it alone on stdout (shown once; stored only as a hash).')
    .requiredOption('--tenant <tenant>', 'tenant the key belongs to')
    .requiredOption('--name <name>', 'a name unique within the tenant')
    .addOption(new Option('--role <role>', 'role of the key').choices(roles).default('user'))
    .option('--clearance <label>', 'clearance label as a banner, e.g. "SECRET//SI"', 'UNCLASSIFIED')
    .option('--authorizations <list>', 'comma-separated need-to-know authorizations', '')
    .option(
      '--default-label <label>',
      'label of requests sent without Enclave-Classification (banner, within the clearance; default: the clearance)',
    )
    .option('--expires <date>', 'expiry time (ISO 8601)')
    .action(
      async (
        opts: {
          tenant: string;
          name: string;
          role: Role;
          clearance: string;
          authorizations: string;
          defaultLabel?: string;
          expires?: string;
        },
        command: Command,
      ) => {
        await withServices(command, async (services) => {
          const { key, record } = await createApiKey(services.store, services.serverSecret, {
            tenantId: opts.tenant,
            name: opts.name,
            role: opts.role,
            clearance: canonicalLabel(parseBanner(opts.clearance)),
            authorizations: opts.authorizations
              .split(',')
              .map((a) => a.trim())
              .filter(Boolean),
            expiresAt: opts.expires === undefined ? null : parseExpiry(opts.expires),
            ...(opts.defaultLabel === undefined
              ? {}
              : { defaultLabel: canonicalLabel(parseBanner(opts.defaultLabel)) }),
          });
          await auditKeyChange(services, 'key.create', record.tenantId, record.id, record.clearance);
          process.stdout.write(key + '\n');
        });
      },
    );

  keys
    .command('list')
    .description('List API keys (never the keys themselves) as JSONL.')
    .option('--tenant <tenant>', 'only this tenant')
    .action(async (opts: { tenant?: string }, command: Command) => {
      await withServices(command, async (services) => {
        for (const k of await services.store.apiKeys.list(opts.tenant)) {
          const { keyHash: _hash, ...shown } = k;
          process.stdout.write(JSON.stringify(shown) + '\n');
        }
      });
    });

  keys
    .command('revoke')
    .description('Revoke an API key by id.')
    .requiredOption('--tenant <tenant>', 'tenant of the key')
    .argument('<id>', 'key id (from keys list)')
    .action(async (id: string, opts: { tenant: string }, command: Command) => {
      await withServices(command, async (services) => {
        if (!(await services.store.apiKeys.revoke(opts.tenant, id))) {
          throw new EnclaveError('not_found', `No live key '${id}' in tenant '${opts.tenant}'.`);
        }
        await auditKeyChange(services, 'key.revoke', opts.tenant, id, canonicalLabel(UNCLASSIFIED));
        process.stdout.write(`revoked ${id}\n`);
      });
    });

  return addDataKeyCommands(keys);
}
