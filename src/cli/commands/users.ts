import { Command } from 'commander';
import { eraseUser } from '../../crypto/index.js';
import { withServices } from '../context.js';

/** `enclave users erase --tenant T --user U`: crypto-shreds and deletes what a user stored. */
export function usersCommand(): Command {
  const users = new Command('users').description('Per-user data operations (erasure).');
  users
    .command('erase')
    .description(
      'Crypto-shred and delete every conversation and response a user created, forget their long-term memory, ' +
        'and shred their user: key scopes; each deletion gets a receipt in the audit log.',
    )
    .requiredOption('--tenant <tenant>', 'tenant id')
    .requiredOption('--user <subject>', 'the user: API key id or OIDC subject')
    .action(async (opts: { tenant: string; user: string }, command: Command) => {
      await withServices(command, async (services) => {
        const report = await eraseUser(services.store, services.encryption, opts.tenant, opts.user);
        process.stdout.write(JSON.stringify(report) + '\n');
      });
    });
  return users;
}
