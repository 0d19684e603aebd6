import { spawnSync } from 'node:child_process';
import { createMemoryService } from '../../src/memory/memory-service.js';
import { offlineExtractor } from '../../src/memory/extract/offline-extractor.js';
import { SEARCH_DEFAULT_KINDS, SEARCH_EXCLUDED_KINDS } from '../../src/memory/memory-import.js';
import { labelIdOfBanner } from '../../src/memory/label-rollup.js';
import { createEncryption, sealContent } from '../../src/crypto/index.js';
import { openStore } from '../../src/store/open-store.js';
import type { LocomoConversation } from './locomo-data.js';

/** Imports one conversation and answers its questions: question id → ranked hits' source_ids. */
export type SearchRun = (conv: LocomoConversation) => Promise<Map<string, string[][]>>;

const TENANT = 'bench';
/** MEMORY_KINDS=all also ranks the extracted records (the comparison in docs/memory.md). */
const searchKinds =
  process.env.MEMORY_KINDS === 'all'
    ? { excludeKinds: SEARCH_EXCLUDED_KINDS }
    : { kinds: SEARCH_DEFAULT_KINDS };
const UNCLASSIFIED = 'UNCLASSIFIED';

/**
 * The functions the CLI calls, in process: one store, one user per conversation. The store seals memory
 * text and blinds its terms as the server's does (MEMORY_PLAIN=1: the plain store, for comparison).
 */
export async function inProcessSearch(dataDir: string): Promise<SearchRun> {
  const plain = await openStore({ dataDir });
  // Only shreds and key changes append to the audit log; the bench does neither.
  const encryption = createEncryption({ repo: plain.dataKeys, dataDir, audit: { append: async () => 0 } });
  const store = process.env.MEMORY_PLAIN === '1' ? plain : sealContent(plain, encryption);
  await store.tenants.ensure(TENANT);
  const label = await labelIdOfBanner(store.labels, UNCLASSIFIED);
  const memory = createMemoryService({ store, extractor: offlineExtractor() });
  return async (conv) => {
    const owner = { tenantId: TENANT, userId: conv.sampleId, agentId: '' };
    const turns = conv.turns.map((t) => ({ ...t, occurredAt: t.time ? Date.parse(t.time) : undefined }));
    await memory.importTurns(owner, 'import', turns, label);
    await memory.drainJobs();
    const reader = { scope: { tenantId: TENANT, labelIds: [label] }, userId: conv.sampleId, agentId: '' };
    const out = new Map<string, string[][]>();
    for (const q of conv.questions) {
      const hits = await memory.recall(reader, q.query, { k: 25, ...searchKinds });
      out.set(
        q.id,
        hits.map((h) => h.record.sourceIds),
      );
    }
    return out;
  };
}

/** Drives the CLI from source (tsx, so no build is needed): `enclave memory import` then `enclave memory search` per conversation. */
export function cliSearch(dataDir: string): SearchRun {
  const cli = (args: string[], input: string): string => {
    const r = spawnSync('npx', ['tsx', 'src/cli/main.ts', '--data-dir', dataDir, 'memory', ...args], {
      input,
      encoding: 'utf8',
      maxBuffer: 1 << 28,
    });
    if (r.status !== 0) throw new Error(`enclave memory ${args[0]} failed: ${r.stderr}`);
    return r.stdout;
  };
  return async (conv) => {
    cli(
      ['import', '--tenant', TENANT, '--user', conv.sampleId],
      conv.turns.map((t) => JSON.stringify(t)).join('\n'),
    );
    const out = cli(
      ['search', '--tenant', TENANT, '--user', conv.sampleId, '--k', '25'],
      conv.questions.map((q) => JSON.stringify({ id: q.id, query: q.query })).join('\n'),
    );
    const results = new Map<string, string[][]>();
    for (const line of out.split('\n').filter(Boolean)) {
      const row = JSON.parse(line) as { id: string; hits: { source_ids: string[] }[] };
      results.set(
        row.id,
        row.hits.map((h) => h.source_ids),
      );
    }
    return results;
  };
}
