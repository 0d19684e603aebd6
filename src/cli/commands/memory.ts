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
    'Long-term memory: import conversation turns, search them.',
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
  return memory;
}
