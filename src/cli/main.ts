#!/usr/bin/env node
import { Command, Option } from 'commander';
import { isEnclaveError } from '../errors/index.js';
import { auditCommand } from './commands/audit.js';
import { keysCommand } from './commands/keys.js';
import { memoryCommand } from './commands/memory.js';
import { safetyCommand } from './commands/safety.js';
import { serveCommand } from './commands/serve.js';
import { usersCommand } from './commands/users.js';

const program = new Command('enclave')
  .description('Enclave: a secure stateful runtime for AI models.')
  .addOption(new Option('--data-dir <dir>', 'data directory (default ./.enclave)').env('ENCLAVE_DATA_DIR'))
  .addOption(
    new Option('--database-url <url>', 'postgres://… selects PostgreSQL; absent selects SQLite').env(
      'DATABASE_URL',
    ),
  )
  .addOption(new Option('--port <port>', 'HTTP port (default 8080)').env('PORT'))
  .addOption(new Option('--host <host>', 'HTTP host (default 127.0.0.1)').env('HOST'))
  .showHelpAfterError()
  .addCommand(serveCommand(), { isDefault: false })
  .addCommand(memoryCommand())
  .addCommand(keysCommand())
  .addCommand(auditCommand())
  .addCommand(safetyCommand())
  .addCommand(usersCommand());

program.parseAsync(process.argv).catch((error: unknown) => {
  // One clear line, no stack: the cause is something the operator can fix (flags, database, input).
  const message = isEnclaveError(error)
    ? error.message
    : error instanceof Error
      ? error.message
      : String(error);
  process.stderr.write(`enclave: ${message}\n`);
  process.exit(1);
});
