import { Command } from 'commander';
import { EnclaveError } from '../../errors/index.js';
import { parseBanner } from '../../labels/index.js';
import { readScopeFor } from '../../memory/label-rollup.js';
import {
  parseQueryLine,
  parseTurnLine,
  searchAnswer,
  SEARCH_DEFAULT_KINDS,
} from '../../memory/memory-import.js';
import type { TurnInput } from '../../memory/memory-service.js';
import { memoryKinds, type MemoryKind } from '../../memory/types.js';
import { importHistory } from '../../runtime/memory-import.js';
import { stdinLines, withServices } from '../context.js';

interface OwnerOptions {
  tenant: string;
  user: string;
  agent: string;
}

const parseKinds = (value: string): MemoryKind[] =>
  value.split(',').map((k) => {
    const kind = k.trim() as MemoryKind;
    if (!memoryKinds.includes(kind))
      throw new EnclaveError('invalid_request', `--kinds: '${k}' is not one of ${memoryKinds.join(', ')}.`);
    return kind;
  });

/** `enclave memory import|search` (JSONL on stdin/stdout, see ../shared/CONTRACT.md). */
export function memoryCommand(): Command {
  const memory = new Command('memory').description(
    'Long-term memory: import conversation turns, search them, set retention.',
  );

  memory
    .command('import')
    .description(
      'Read JSONL turns {"session","id","speaker","text","time"?} on stdin into a user\'s history.',
    )
    .requiredOption('--tenant <tenant>', 'tenant')
    .requiredOption('--user <user>', 'user whose history this is')
    .option('--agent <agent>', "agent the memory belongs to (default: shared by the user's agents)", '')
    .option('--conversation <name>', 'name of the import: one conversation per (name, session)', 'import')
    .option('--label <banner>', 'security label of the turns', 'UNCLASSIFIED')
    .action(async (opts: OwnerOptions & { conversation: string; label: string }, command: Command) => {
      await withServices(command, async (services) => {
        const turns: TurnInput[] = [];
        let n = 0;
        for await (const line of stdinLines()) turns.push(parseTurnLine(line, ++n));
        const result = await importHistory(
          { store: services.store, labels: services.runtime.labels, memory: services.memory },
          {
            tenantId: opts.tenant,
            userId: opts.user,
            agentId: opts.agent,
            conversation: opts.conversation,
            label: opts.label,
            turns,
          },
        );
        // Extraction normally runs in the server's background worker; the CLI drains the queue itself.
        const jobs = await services.memory.service.drainJobs();
        process.stderr.write(
          `imported ${result.added} turns (${result.skipped} already stored) into ${result.conversations} conversations, ${jobs.done} extraction jobs\n`,
        );
      });
    });

  memory
    .command('search')
    .description(
      'Read JSONL {"id","query"} on stdin; write {"id","hits":[{"source_ids","text","score"}]} per line.',
    )
    .requiredOption('--tenant <tenant>', 'tenant')
    .requiredOption('--user <user>', 'user whose memories to search')
    .option('--agent <agent>', 'agent whose memories also apply', '')
    .option('--k <k>', 'hits per query', '10')
    .option('--clearance <banner>', 'clearance of the reader', 'UNCLASSIFIED')
    .option('--kinds <list>', `comma-separated kinds to rank (default ${SEARCH_DEFAULT_KINDS.join(',')})`)
    .action(
      async (opts: OwnerOptions & { k: string; clearance: string; kinds?: string }, command: Command) => {
        const k = Number(opts.k);
        if (!Number.isInteger(k) || k < 1 || k > 200)
          throw new EnclaveError('invalid_request', '--k must be 1..200.');
        const kinds = opts.kinds ? parseKinds(opts.kinds) : SEARCH_DEFAULT_KINDS;
        await withServices(command, async ({ store, memory }) => {
          const scope = await readScopeFor(store.labels, opts.tenant, {
            label: parseBanner(opts.clearance),
            authorizations: [],
          });
          const reader = { scope, userId: opts.user, agentId: opts.agent };
          let n = 0;
          for await (const line of stdinLines()) {
            const q = parseQueryLine(line, ++n);
            const hits = await memory.service.recall(reader, q.query, { k, kinds });
            process.stdout.write(`${searchAnswer(q.id, hits)}\n`);
          }
        });
      },
    );
  memory
    .command('retention')
    .description(
      "Set a tenant's memory retention: the server's memory worker forgets turns and memories older than the " +
        'maximum age (with a deletion receipt in the audit log). Without --max-age-days or --off, prints it.',
    )
    .requiredOption('--tenant <tenant>', 'tenant')
    .option('--max-age-days <days>', 'maximum age of memory, in days')
    .option('--off', 'keep memory until it is deleted')
    .action(async (opts: { tenant: string; maxAgeDays?: string; off?: boolean }, command: Command) => {
      const days = opts.maxAgeDays === undefined ? undefined : Number(opts.maxAgeDays);
      if (days !== undefined && !(days > 0 && days <= 36_500))
        throw new EnclaveError('invalid_request', '--max-age-days must be a number of days in (0, 36500].');
      if (days !== undefined && opts.off)
        throw new EnclaveError('invalid_request', 'Give either --max-age-days or --off, not both.');
      await withServices(command, async ({ store, audit }) => {
        if (days !== undefined || opts.off) {
          await store.tenants.ensure(opts.tenant);
          // A retention policy decides what gets deleted: recorded before it applies.
          await audit.append({
            type: 'config.change',
            time: Date.now(),
            tenant: opts.tenant,
            principal: 'cli',
            decision: 'allow',
            rule: 'memory.retention',
            label: 'UNCLASSIFIED',
            detail: { maxAgeDays: days ?? null },
          });
          await store.memory.lifecycle.setRetention(
            opts.tenant,
            days === undefined ? null : days * 86_400_000,
          );
        }
        const maxAgeMs = await store.memory.lifecycle.retention(opts.tenant);
        process.stdout.write(
          `${JSON.stringify({ tenant: opts.tenant, maxAgeDays: maxAgeMs === null ? null : maxAgeMs / 86_400_000 })}\n`,
        );
      });
    });
  return memory;
}
