import type { Store } from '../store/store.js';
import type {
  ForgetReceipt,
  ForgetTarget,
  MemoryRepo,
  OwnerKey,
  SourceRow,
} from '../store/repos/memory-repo.js';
import type { NeighbourTurns } from '../store/repos/memory-lifecycle.js';
import type { Embedder } from './embedder.js';
import type { MemoryExtractor } from './extract/extractor.js';
import { formatDay } from './extract/relative-date.js';
import { episodeTerms } from './index-document.js';
import { quarantineReleaser } from './memory-quarantine.js';
import { memoryWriter, newId, type LubLabels, type WriteOutcome } from './memory-writer.js';
import { recaller, type RecallOptions } from './recall.js';
import type { ScreenMemory } from './screen.js';
import type { MemoryHit } from './types.js';

/** A turn handed to memory: the caller's id, its session within the conversation, speaker, text, time. */
export interface TurnInput {
  id: string;
  session: string;
  speaker: string;
  text: string;
  /** Epoch ms the turn was said; absent = now. */
  occurredAt?: number | undefined;
  /** The conversation item the turn is stored as (runtime turns: the same as `id`). */
  itemId?: string | undefined;
  /** The turn's own label id; absent = the label given for the whole batch. */
  labelId?: string | undefined;
}

/**
 * Records stored turns for memory and queues their extraction: only cheap inserts, so the runtime can call
 * it with the transaction's repo (`tx.memory`) and the turn and its extraction job commit together
 * (durable: a crash after the commit leaves a pending job, never a turn memory missed).
 */
export async function recordTurns(
  repo: MemoryRepo,
  owner: OwnerKey,
  conversationId: string,
  turns: readonly TurnInput[],
  labelId: string,
  now: number,
): Promise<{ added: number; skipped: number }> {
  let seq = await repo.sources.nextSeq(owner);
  const rows: SourceRow[] = turns.map((t) => ({
    key: newId('msrc'),
    conversationId,
    session: t.session,
    turnId: t.id,
    seq: seq++,
    speaker: t.speaker,
    text: t.text,
    labelId: t.labelId ?? labelId,
    occurredAt: t.occurredAt ?? now,
    extractedAt: null,
    itemId: t.itemId ?? null,
  }));
  const added = await repo.sources.add(owner, rows, now);
  if (added.length) await repo.queue.enqueue(newId('memjob'), owner, conversationId, now);
  return { added: added.length, skipped: turns.length - added.length };
}

export interface MemoryServiceOptions {
  store: Store;
  extractor: MemoryExtractor;
  screen?: ScreenMemory | undefined;
  embedder?: Embedder | undefined;
  lub?: LubLabels | undefined;
  /** Called with every forget's receipt (the audit log's deletion receipt); `what` names the target. */
  onForget?: ((tenantId: string, what: string, receipt: ForgetReceipt) => Promise<void>) | undefined;
  now?: () => number;
}

const EXTRACT_BATCH = 50;
const MAX_ATTEMPTS = 5;
/** A session batch with at least this many extracted memories also gets a summary record. */
const SUMMARY_MIN = 3;

export function createMemoryService(options: MemoryServiceOptions) {
  const now = options.now ?? Date.now;
  const repo = options.store.memory;
  const writer = memoryWriter({
    repo,
    screen: options.screen,
    embedder: options.embedder,
    lub: options.lub,
    now,
  });
  const recall = recaller({ repo, embedder: options.embedder, now });
  const episodeId = (source: SourceRow): string => `ep_${source.key}`;

  const neighbours = (owner: OwnerKey, s: SourceRow): Promise<SourceRow[]> => repo.sources.adjacent(owner, s);

  /**
   * Makes each turn of a batch a searchable episode (through the safety screen), indexed with its
   * neighbours; the turn stored before the batch gains a neighbour, so its episode is re-indexed.
   * Idempotent per turn, so a retried job does not index a turn twice.
   */
  async function indexEpisodes(owner: OwnerKey, conversationId: string, batch: readonly SourceRow[]) {
    const outcomes: WriteOutcome[] = [];
    const readerOf = (s: SourceRow) => ({
      scope: { tenantId: owner.tenantId, labelIds: [s.labelId] },
      ...owner,
    });
    for (const s of batch) {
      if ((await repo.records.get(readerOf(s), [episodeId(s)])).length) continue;
      outcomes.push(
        await writer.write({
          id: episodeId(s),
          owner,
          kind: 'episode',
          text: `${s.speaker}: ${s.text}`,
          conversationId,
          validFrom: s.occurredAt,
          sources: [s],
          terms: episodeTerms(s, await neighbours(owner, s)),
        }),
      );
    }
    const first = batch[0];
    const before = first
      ? (await neighbours(owner, first)).find((n) => n.seq < first.seq && n.extractedAt !== null)
      : undefined;
    // A quarantined turn has no episode to re-index.
    if (before && (await repo.records.get(readerOf(before), [episodeId(before)])).length)
      await repo.records.reindex(
        owner.tenantId,
        episodeId(before),
        episodeTerms(before, await neighbours(owner, before)),
      );
    return outcomes;
  }

  /** Re-indexes the episodes of surviving turns over their neighbours now (their old ones were forgotten). */
  async function reindexNeighbours(around: readonly NeighbourTurns[]): Promise<void> {
    for (const group of around)
      for (const n of await repo.sources.byTurnIds(group.owner, group.conversationId, group.turnIds))
        await repo.records.reindex(
          group.owner.tenantId,
          episodeId(n),
          episodeTerms(n, await neighbours(group.owner, n)),
        );
  }

  /**
   * One tenant's retention at one instant, in the forget path's order: the surviving neighbours of the turns
   * that go are found first, the sweep deletes, then their episodes are re-indexed (the caller writes the
   * receipt after that), so no episode keeps a removed turn's words as neighbour context.
   */
  async function retain(tenantId: string): Promise<ForgetReceipt> {
    const at = now();
    const around = await repo.lifecycle.retentionNeighbourTurns(tenantId, at);
    const receipt = await repo.lifecycle.applyRetention(tenantId, at);
    await reindexNeighbours(around);
    return receipt;
  }

  async function runExtraction(owner: OwnerKey, conversationId: string): Promise<WriteOutcome[]> {
    const outcomes: WriteOutcome[] = [];
    for (;;) {
      const batch = await repo.sources.unextracted(owner, conversationId, EXTRACT_BATCH);
      if (batch.length === 0) return outcomes;
      outcomes.push(...(await indexEpisodes(owner, conversationId, batch)));
      const drafts = await options.extractor.extract(
        batch.map((s) => ({
          id: s.turnId,
          speaker: s.speaker,
          text: s.text,
          occurredAt: s.occurredAt,
          labelId: s.labelId,
        })),
      );
      const bySession = new Map<string, { texts: string[]; sources: SourceRow[] }>();
      for (const draft of drafts) {
        const sources = batch.filter((s) => draft.sourceIds.includes(s.turnId));
        const first = sources[0];
        if (!first) continue;
        const outcome = await writer.write({
          owner,
          kind: draft.kind,
          text: draft.text,
          subject: draft.subject,
          attribute: draft.attribute,
          value: draft.value,
          conversationId,
          validFrom: draft.validFrom ?? first.occurredAt,
          sources,
        });
        outcomes.push(outcome);
        if (outcome.status === 'quarantined') continue;
        const group = bySession.get(first.session) ?? { texts: [], sources: [] };
        group.texts.push(draft.text);
        group.sources.push(...sources);
        bySession.set(first.session, group);
      }
      for (const [session, group] of bySession) {
        if (group.texts.length < SUMMARY_MIN) continue;
        const day = formatDay(group.sources[0]?.occurredAt ?? now());
        outcomes.push(
          await writer.write({
            owner,
            kind: 'summary',
            text: `Session ${session} (${day}): ${group.texts.join('; ')}`.slice(0, 4000),
            conversationId,
            validFrom: group.sources[0]?.occurredAt ?? now(),
            sources: group.sources,
          }),
        );
      }
      await repo.sources.markExtracted(
        batch.map((s) => s.key),
        now(),
      );
    }
  }

  return {
    /**
     * Records turns for memory (idempotent per turn id) and queues their extraction; episodes and
     * extracted records are written by the extraction job (`drainJobs`).
     */
    async importTurns(owner: OwnerKey, conversationId: string, turns: readonly TurnInput[], labelId: string) {
      await options.store.tenants.ensure(owner.tenantId);
      return recordTurns(repo, owner, conversationId, turns, labelId, now());
    },

    runExtraction,

    /** The extraction worker: runs due jobs, retrying failures with exponential back-off. */
    async drainJobs(maxJobs = 100): Promise<{ done: number; failed: number }> {
      let done = 0;
      let failed = 0;
      for (let i = 0; i < maxJobs; i++) {
        const job = await repo.queue.claim(now());
        if (!job) break;
        try {
          await runExtraction(job.owner, job.conversationId);
          await repo.queue.complete(job.id);
          done++;
        } catch (error) {
          failed++;
          const retryAt = job.attempts >= MAX_ATTEMPTS ? null : now() + 1000 * 2 ** job.attempts;
          await repo.queue.fail(job.id, error instanceof Error ? error.message : String(error), retryAt);
        }
      }
      return { done, failed };
    },

    /** Jobs a crashed worker left running become due again (called once when a worker starts). */
    requeueStale: () => repo.queue.requeueStale(),

    write: writer.write,

    /** A reviewer released a quarantined write: it enters memory unscreened (memory-quarantine.ts). */
    releaseQuarantined: quarantineReleaser({ repo, embedder: options.embedder, lub: options.lub, now }),

    recall: (
      reader: Parameters<typeof recall>[0],
      query: string,
      opts: RecallOptions,
    ): Promise<MemoryHit[]> => recall(reader, query, opts),

    /**
     * Forgets `target` and writes its receipt. Forgetting single turns (an item, an episode) also
     * re-indexes the surviving neighbours' episodes, which held the forgotten words as neighbour context.
     * An item memory never learned from (memory off, `enclave_memory: "off"`) writes no receipt.
     */
    async forget(target: ForgetTarget): Promise<ForgetReceipt> {
      const around = await repo.lifecycle.neighbourTurns(target);
      const receipt = await repo.lifecycle.forget(target);
      await reindexNeighbours(around);
      const { tenantId, by, ...rest } = target;
      if (by !== 'item' || receipt.records + receipt.sources + receipt.quarantined > 0)
        await options.onForget?.(tenantId, `${by} ${Object.values(rest).join(' ')}`, receipt);
      return receipt;
    },

    async applyRetention(tenantId: string): Promise<ForgetReceipt> {
      const receipt = await retain(tenantId);
      await options.onForget?.(tenantId, 'retention', receipt);
      return receipt;
    },

    /**
     * The periodic retention sweep (the worker runs it): every tenant with a max age loses what is older.
     * A sweep that deleted nothing writes no receipt, so an idle deployment does not fill the audit log.
     */
    async sweepRetention(): Promise<{ tenants: number; records: number; sources: number }> {
      const out = { tenants: 0, records: 0, sources: 0 };
      for (const tenantId of await repo.lifecycle.retentionTenants()) {
        const receipt = await retain(tenantId);
        out.tenants++;
        out.records += receipt.records;
        out.sources += receipt.sources;
        if (receipt.records + receipt.sources + receipt.quarantined > 0)
          await options.onForget?.(tenantId, 'retention', receipt);
      }
      return out;
    },
  };
}

export type MemoryService = ReturnType<typeof createMemoryService>;
