import type { MemoryReader, MemoryRepo, RecordHeader, RecordRow } from '../store/repos/memory-repo.js';
import { admitted, cosine, type Embedder } from './embedder.js';
import { queryTerms } from './index-document.js';
import type { MemoryHit, MemoryKind, MemoryRecord } from './types.js';

export interface RecallOptions {
  k: number;
  kinds?: readonly MemoryKind[] | undefined;
  excludeKinds?: readonly MemoryKind[] | undefined;
  /** Also return superseded records (history), ranked below current ones. */
  includeSuperseded?: boolean | undefined;
}

/** Reciprocal-rank-fusion constant (Cormack et al. 2009's default). */
const RRF_K = 60;
/** Recent memories get up to +10 %, halving every 30 days: a tie-breaker, never a override of relevance. */
const RECENCY_BOOST = 0.1;
const RECENCY_HALF_LIFE_MS = 30 * 86_400_000;
/** How far down each list fusion looks, relative to k. */
const POOL = 4;
/** Vector search is brute force in process over the newest embedded records the reader may see. */
const VECTOR_SCAN_LIMIT = 20_000;

/**
 * Hybrid recall: BM25 in the database (tenant, owner and label filters inside the query), fused by
 * RRF with cosine similarity when an embedder is configured, then weighted by recency and validity.
 */
export function recaller(deps: { repo: MemoryRepo; embedder?: Embedder | undefined; now: () => number }) {
  return async function recall(
    reader: MemoryReader,
    query: string,
    options: RecallOptions,
  ): Promise<MemoryHit[]> {
    const k = Math.max(1, Math.min(options.k, 200));
    const search = {
      limit: k * POOL,
      kinds: options.kinds,
      excludeKinds: options.excludeKinds,
      includeSuperseded: options.includeSuperseded ?? false,
    };
    const lexical = await deps.repo.records.searchBm25(reader, queryTerms(query), search);
    let ranked: { id: string; score: number }[] = lexical;
    // The query goes to the embeddings endpoint only if it is accredited for everything the reader may see
    // (the query may quote any of it); otherwise recall is BM25 alone.
    if (deps.embedder && (await admitted(deps.embedder, reader.scope.labelIds))) {
      const [q] = await deps.embedder.embed([query]);
      const vectors = q
        ? await deps.repo.records.embeddings(reader, { ...search, limit: VECTOR_SCAN_LIMIT })
        : [];
      const semantic = vectors
        .map((v) => ({ id: v.id, score: cosine(q as Float32Array, v.vector) }))
        .sort((a, b) => b.score - a.score)
        .slice(0, k * POOL);
      ranked = fuse([lexical, semantic]);
    }
    // Ranking needs no content: only the k hits returned are read in full (sealed text is opened per row).
    const headers = new Map(
      (
        await deps.repo.records.headers(
          reader,
          ranked.map((r) => r.id),
        )
      ).map((r) => [r.id, r]),
    );
    const now = deps.now();
    const scored = ranked
      .flatMap((r) => {
        const header = headers.get(r.id);
        return header ? [{ header, score: r.score * weight(header, now) }] : [];
      })
      .sort((a, b) => b.score - a.score || a.header.id.localeCompare(b.header.id));
    const top = collapse(scored).slice(0, k);
    const full = new Map(
      (
        await deps.repo.records.get(
          reader,
          top.map((h) => h.header.id),
        )
      ).map((r) => [r.id, r]),
    );
    return top.flatMap((h) => {
      const record = full.get(h.header.id);
      return record ? [{ record: toRecord(record), score: h.score }] : [];
    });
  };
}

/**
 * Drops a hit whose source turns are all covered by better hits (a fact extracted from a turn that is
 * already shown adds no new evidence), so the k slots go to k different pieces of history.
 */
function collapse<T extends { header: RecordHeader }>(hits: readonly T[]): T[] {
  const seen = new Set<string>();
  const out: T[] = [];
  for (const hit of hits) {
    const ids = hit.header.sourceIds;
    if (ids.length > 0 && ids.every((id) => seen.has(id))) continue;
    for (const id of ids) seen.add(id);
    out.push(hit);
  }
  return out;
}

/** Reciprocal rank fusion of ranked lists (scores are not comparable across BM25 and cosine). */
export function fuse(lists: readonly (readonly { id: string }[])[]): { id: string; score: number }[] {
  const scores = new Map<string, number>();
  for (const list of lists)
    list.forEach((item, rank) => scores.set(item.id, (scores.get(item.id) ?? 0) + 1 / (RRF_K + rank + 1)));
  return [...scores].map(([id, score]) => ({ id, score })).sort((a, b) => b.score - a.score);
}

function weight(record: RecordHeader, now: number): number {
  const age = Math.max(0, now - record.validFrom);
  const recency = 1 + RECENCY_BOOST * 0.5 ** (age / RECENCY_HALF_LIFE_MS);
  // A superseded record is history: still findable when asked for, but below what holds now.
  return record.supersededAt === null ? recency : recency * 0.5;
}

export function toRecord(row: RecordRow): MemoryRecord {
  return { ...row, kind: row.kind as MemoryKind };
}
