import { existsSync } from 'node:fs';
import type { KeyObject } from 'node:crypto';
import { Command } from 'commander';
import { auditConfig } from '../../audit/audit-config.js';
import { openAuditContent } from '../../audit/audit-content.js';
import type { AuditEntry } from '../../audit/audit-entry.js';
import { exportLog } from '../../audit/export-log.js';
import { openAuditLog } from '../../audit/open-audit-log.js';
import { loadOrCreateSigningKey, loadPublicKey, publicKeyPem } from '../../audit/signing-key.js';
import type { VerifyReport } from '../../audit/tree-verifier.js';
import { verifyExport } from '../../audit/verify-export.js';
import { verifyLog } from '../../audit/verify-log.js';
import { EnclaveError } from '../../errors/index.js';
import { configFrom, withServices } from '../context.js';

interface VerifyOptions {
  export?: string;
  checkpoint?: string;
  publicKey?: string;
}

/** The checkpoint public key: `--public-key FILE`, else the one of the local signing key (never created here). */
function publicKeyFor(command: Command, file: string | undefined): KeyObject | undefined {
  if (file) return loadPublicKey(file);
  const path = auditConfig(configFrom(command)).signingKeyFile;
  return existsSync(path) ? loadPublicKey(path) : undefined;
}

function report(result: VerifyReport): void {
  process.stdout.write(JSON.stringify(result) + '\n');
  if (!result.ok) {
    const where = result.firstBadIndex === undefined ? '' : ` at index ${result.firstBadIndex}`;
    process.stderr.write(
      `enclave: audit verification FAILED${where}: ${result.problem ?? 'unknown fault'}\n`,
    );
    process.exitCode = 2;
  }
}

export function auditCommand(): Command {
  const audit = new Command('audit').description(
    'The tamper-evident audit log: verify, export, checkpoint, open sealed content.',
  );

  audit
    .command('verify')
    .description(
      'Verify the live log (or an export against a signed checkpoint, offline); exit 0 when intact.',
    )
    .option('--export <file>', 'verify this JSONL export instead of the database (needs --checkpoint)')
    .option('--checkpoint <file>', 'signed checkpoint(s) as JSON, a JSON array or JSONL')
    .option('--public-key <file>', 'Ed25519 public key PEM (default: the local audit signing key)')
    .action(async (opts: VerifyOptions, command: Command) => {
      if (opts.export !== undefined || opts.checkpoint !== undefined) {
        if (!opts.export || !opts.checkpoint) {
          throw new EnclaveError(
            'invalid_request',
            'Offline verification needs both --export FILE and --checkpoint FILE.',
          );
        }
        const key = publicKeyFor(command, opts.publicKey);
        if (!key) throw new EnclaveError('invalid_request', 'No public key: pass --public-key FILE.');
        report(await verifyExport(opts.export, opts.checkpoint, key));
        return;
      }
      const key = publicKeyFor(command, opts.publicKey);
      await withServices(command, async (services) =>
        report(await verifyLog(services.store.audit, key ? [key] : [])),
      );
    });

  audit
    .command('export')
    .description('Write every entry as JSONL {index, leafHash, entry} on stdout.')
    .action(async (_opts: object, command: Command) => {
      await withServices(command, async (services) => {
        for await (const line of exportLog(services.store.audit)) {
          if (!process.stdout.write(line + '\n'))
            await new Promise((resolve) => process.stdout.once('drain', resolve));
        }
      });
    });

  audit
    .command('checkpoint')
    .description('Sign a checkpoint of the current tree head (if it grew) and print the latest one as JSON.')
    .action(async (_opts: object, command: Command) => {
      await withServices(command, async (services) => {
        const { log } = openAuditLog(services.config, services.store, services.logger);
        try {
          process.stdout.write(JSON.stringify(await log.checkpoint()) + '\n');
        } finally {
          await log.close();
        }
      });
    });

  audit
    .command('content')
    .description(
      'Open the sealed content (audit.storeContent) of entries INDEX… with the tenant keys; prints JSONL.',
    )
    .argument('<index...>', 'entry indexes')
    .action(async (indexes: string[], _opts: object, command: Command) => {
      await withServices(command, async (services) => {
        for (const text of indexes) {
          const index = Number(text);
          const [row] = Number.isSafeInteger(index) ? await services.store.audit.entries(index, 1) : [];
          if (!row) throw new EnclaveError('not_found', `No audit entry at index ${text}.`);
          const entry = JSON.parse(row.entry) as AuditEntry;
          const content = await openAuditContent(services.encryption.cipher, entry);
          const line = {
            index,
            type: entry.type,
            objectId: entry.objectId ?? null,
            content: content ?? null,
          };
          process.stdout.write(JSON.stringify(line) + '\n');
        }
      });
    });

  audit
    .command('public-key')
    .description('Print the checkpoint verification key (PEM) to hand to auditors.')
    .action((_opts: object, command: Command) => {
      const key = loadOrCreateSigningKey(auditConfig(configFrom(command)).signingKeyFile);
      process.stdout.write(publicKeyPem(key.publicKey));
    });

  return audit;
}
