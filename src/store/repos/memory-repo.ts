import type { Kysely } from 'kysely';
import type { Database } from '../schema.js';
import { lifecycleQueries } from './memory-lifecycle.js';
import { queueQueries } from './memory-queue.js';
import { quarantineReviewQueries } from './memory-quarantine.js';
import { recordQueries } from './memory-records.js';
import { sourceQueries } from './memory-sources.js';

export type { ForgetReceipt, ForgetTarget } from './memory-lifecycle.js';
export type { JobRow, QuarantineRow } from './memory-queue.js';
export { BM25 } from './memory-records.js';
export type {
  MemoryReader,
  NewRecord,
  OwnerKey,
  ReadScope,
  RecordHeader,
  RecordRow,
  SearchOptions,
} from './memory-records.js';
export type { SourceRow } from './memory-sources.js';

/** Long-term memory storage: turns (provenance), records with their BM25 terms, lifecycle and queues. */
export interface MemoryRepo {
  readonly sources: ReturnType<typeof sourceQueries>;
  readonly records: Omit<ReturnType<typeof recordQueries>, 'visible'>;
  readonly lifecycle: ReturnType<typeof lifecycleQueries>;
  readonly queue: ReturnType<typeof queueQueries>;
  /** The reviewer's side of the quarantine (memory-quarantine.ts). */
  readonly quarantine: ReturnType<typeof quarantineReviewQueries>;
}

export function memoryRepo(db: Kysely<Database>): MemoryRepo {
  const records = recordQueries(db);
  const lifecycle = lifecycleQueries(db);
  return {
    sources: sourceQueries(db),
    records,
    // Deletions change N and avgdl: the BM25 statistics cache must not outlive them.
    lifecycle: {
      ...lifecycle,
      forget: async (target) => {
        records.invalidateStats();
        return lifecycle.forget(target);
      },
      applyRetention: async (tenantId, now) => {
        records.invalidateStats();
        return lifecycle.applyRetention(tenantId, now);
      },
    },
    queue: queueQueries(db),
    quarantine: quarantineReviewQueries(db),
  };
}
