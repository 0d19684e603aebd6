import { Command } from 'commander';
import { EnclaveError } from '../../errors/index.js';
import { parseBanner } from '../../labels/index.js';
import { offlineExtractor } from '../../memory/extract/offline-extractor.js';
import { labelIdOfBanner, labelRollup, readScopeFor } from '../../memory/label-rollup.js';
import {
  parseQueryLine,
  parseTurnLine,
  searchAnswer,
  SEARCH_DEFAULT_KINDS,
} from '../../memory/memory-import.js';
import { createMemoryService, type TurnInput } from '../../memory/memory-service.js';
import { memoryKinds, type MemoryKind } from '../../memory/types.js';
import type { Store } from '../../store/store.js';
import { stdinLines, withServices } from '../context.js';

interface OwnerOptions {
  tenant: string;
  user: string;
  agent: string;
}

const service = (store: Store) =>
  // UNFINISHED: the CLI uses the offline extractor and no safety screen until src/safety and the model
  // configuration are wired into Services; the runtime composition root injects both.
  createMemoryService({ store, extractor: offlineExtractor(), lub: labelRollup(store.labels) });

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
    .option('--conversation <id>', 'conversation the turns belong to', 'import')
    .option('--label <banner>', 'security label of the turns', 'UNCLASSIFIED')
    .action(async (opts: OwnerOptions & { conversation: string; label: string }, command: Command) => {
      await withServices(command, async ({ store }) => {
        const turns: TurnInput[] = [];
        let n = 0;
        for await (const line of stdinLines()) turns.push(parseTurnLine(line, ++n));
        const labelId = await labelIdOfBanner(store.labels, opts.label);
        const memory = service(store);
        const owner = { tenantId: opts.tenant, userId: opts.user, agentId: opts.agent };
        const result = await memory.importTurns(owner, opts.conversation, turns, labelId);
        // Extraction normally runs in the server's background worker; the CLI drains the queue itself.
        const jobs = await memory.drainJobs();
        process.stderr.write(
          `imported ${result.added} turns (${result.skipped} already stored), ${jobs.done} extraction jobs\n`,
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
        await withServices(command, async ({ store }) => {
          const scope = await readScopeFor(store.labels, opts.tenant, {
            label: parseBanner(opts.clearance),
            authorizations: [],
          });
          const reader = { scope, userId: opts.user, agentId: opts.agent };
          const memory = service(store);
          let n = 0;
          for await (const line of stdinLines()) {
            const q = parseQueryLine(line, ++n);
            const hits = await memory.recall(reader, q.query, { k, kinds });
            process.stdout.write(`${searchAnswer(q.id, hits)}\n`);
          }
        });
      },
    );
  return memory;
}
