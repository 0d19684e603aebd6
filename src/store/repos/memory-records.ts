import { createHash } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import type { Database } from '../schema.js';
import type { MemoryRecordTable } from '../memory-schema.js';

/** Which labels a reader may see (ids from the label catalogue); applied inside every WHERE clause. */
export interface ReadScope {
  tenantId: string;
  labelIds: readonly string[];
}

/** A memory's owner; '' on an axis means shared across the tenant on that axis. */
export interface OwnerKey {
  tenantId: string;
  userId: string;
  agentId: string;
}

export interface RecordRow {
  id: string;
  owner: OwnerKey;
  kind: string;
  text: string;
  subject: string | null;
  attribute: string | null;
  value: string | null;
  conversationId: string | null;
  sourceIds: string[];
  labelId: string;
  validFrom: number;
  validTo: number | null;
  recordedAt: number;
  supersededAt: number | null;
  supersededBy: string | null;
}

/** A record without its content columns (ranking needs only these; content is opened for the top hits). */
export type RecordHeader = Omit<RecordRow, 'text' | 'subject' | 'attribute' | 'value'>;

export interface NewRecord extends RecordRow {
  /** Analyzed, weighted term frequencies (src/memory decides the analysis; the store only sums). */
  terms: ReadonlyMap<string, number>;
  /** Internal ids of memory_sources rows this record derives from (for cascading forgets). */
  sourceKeys: readonly string[];
  embedding?: Float32Array | undefined;
  /**
   * Lookup keys of `currentFacts` / `sameText`. The sealing store passes keyed blind hashes (the columns
   * themselves are ciphertext there); absent = the plain hashes of `plainFactKey` / `plainTextKey`.
   */
  factKey?: string | null | undefined;
  textKey?: string | undefined;
}

const sha256 = (parts: readonly string[]): string =>
  createHash('sha256').update(parts.join('\u0000'), 'utf8').digest('base64url');
/** The unkeyed lookup key of a fact (plain stores only; the sealing store keys it). */
export const plainFactKey = (subject: string | null, attribute: string | null): string | null =>
  subject === null || attribute === null ? null : sha256(['fact', subject, attribute]);
export const plainTextKey = (kind: string, text: string): string => sha256(['text', kind, text]);

/** Who is reading: the label scope plus the user/agent whose (and the tenant's shared) memories apply. */
export interface MemoryReader {
  scope: ReadScope;
  userId: string;
  agentId: string;
}

export interface SearchOptions {
  limit: number;
  includeSuperseded?: boolean;
  kinds?: readonly string[] | undefined;
  excludeKinds?: readonly string[] | undefined;
}

/** Okapi BM25 constants (Robertson/Lucene defaults; not tuned on any evaluation set). */
export const BM25 = { k1: 1.2, b: 0.75 } as const;
const STATS_TTL_MS = 5000;

/** The record half of the memory store: writing records with their terms, BM25 search and reads. */
export function recordQueries(db: Kysely<Database>) {
  /** Records `reader` may see: tenant, owner axes and labels, all inside the query. */
  const visible = (reader: MemoryReader, options: Omit<SearchOptions, 'limit'> = {}) => {
    let q = db
      .selectFrom('memory_records as r')
      .where('r.tenant_id', '=', reader.scope.tenantId)
      .where('r.user_id', 'in', unique([reader.userId, '']))
      .where('r.agent_id', 'in', unique([reader.agentId, '']))
      .where('r.label_id', 'in', reader.scope.labelIds.length ? [...reader.scope.labelIds] : ['\u0000none']);
    if (!options.includeSuperseded) q = q.where('r.superseded_at', 'is', null);
    if (options.kinds?.length) q = q.where('r.kind', 'in', [...options.kinds]);
    if (options.excludeKinds?.length) q = q.where('r.kind', 'not in', [...options.excludeKinds]);
    return q;
  };

  /** The postings of `terms` that `reader` may see: the same filters as `visible`, on the term rows. */
  const postings = (reader: MemoryReader, options: Omit<SearchOptions, 'limit'>, terms: string[]) => {
    let q = db
      .selectFrom('memory_terms as t')
      .where('t.tenant_id', '=', reader.scope.tenantId)
      .where('t.term', 'in', terms)
      .where('t.user_id', 'in', unique([reader.userId, '']))
      .where('t.agent_id', 'in', unique([reader.agentId, '']))
      .where('t.label_id', 'in', reader.scope.labelIds.length ? [...reader.scope.labelIds] : ['\u0000none']);
    if (!options.includeSuperseded) q = q.where('t.current', '=', 1);
    if (options.kinds?.length) q = q.where('t.kind', 'in', [...options.kinds]);
    if (options.excludeKinds?.length) q = q.where('t.kind', 'not in', [...options.excludeKinds]);
    return q;
  };

  /**
   * N and average length of what `reader` sees: a scan of the reader's rows, so it is cached for a few
   * seconds (and dropped on any write through this store). A stale N/avgdl shifts scores slightly and
   * never changes which rows are visible: visibility is always decided by the live query.
   */
  const statsCache = new Map<string, { at: number; n: number; avgdl: number }>();
  const collectionStats = async (reader: MemoryReader, options: Omit<SearchOptions, 'limit'>) => {
    const key = JSON.stringify([reader, options.includeSuperseded, options.kinds, options.excludeKinds]);
    const cached = statsCache.get(key);
    if (cached && Date.now() - cached.at < STATS_TTL_MS) return cached;
    const row = await visible(reader, options)
      .select([
        (eb) => eb.fn.countAll<number>().as('n'),
        sql<number | null>`cast(avg(r.doc_len) as double precision)`.as('avgdl'),
      ])
      .executeTakeFirstOrThrow();
    const stats = { at: Date.now(), n: Number(row.n), avgdl: Number(row.avgdl ?? 1) || 1 };
    if (statsCache.size > 1000) statsCache.clear();
    statsCache.set(key, stats);
    return stats;
  };
  const wrote = () => statsCache.clear();

  return {
    visible,
    /** Drops cached collection statistics (after writes outside this repo, e.g. a forget). */
    invalidateStats: wrote,

    async insert(record: NewRecord): Promise<void> {
      wrote();
      const docLen = [...record.terms.values()].reduce((a, b) => a + b, 0);
      await db.insertInto('memory_records').values(toRow(record, docLen)).execute();
      await insertTerms(db, postingOf(record, docLen), record.terms);
      if (record.sourceKeys.length) {
        await db
          .insertInto('memory_record_sources')
          .values(
            unique(record.sourceKeys).map((s) => ({
              tenant_id: record.owner.tenantId,
              record_id: record.id,
              source_id: s,
            })),
          )
          .execute();
      }
    },

    /** Re-indexes a record (an episode whose neighbour arrived, a merged duplicate). */
    async reindex(tenantId: string, id: string, terms: ReadonlyMap<string, number>): Promise<void> {
      wrote();
      const row = await db
        .selectFrom('memory_records')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .where('id', '=', id)
        .executeTakeFirst();
      if (!row) return;
      const docLen = [...terms.values()].reduce((a, b) => a + b, 0);
      await db.deleteFrom('memory_terms').where('record_id', '=', id).execute();
      await insertTerms(db, postingOf(fromRow(row), docLen), terms);
      await db.updateTable('memory_records').set({ doc_len: docLen }).where('id', '=', id).execute();
    },

    async addSources(
      tenantId: string,
      id: string,
      sourceIds: readonly string[],
      sourceKeys: readonly string[],
    ) {
      await db
        .updateTable('memory_records')
        .set({ source_ids: JSON.stringify(sourceIds) })
        .where('id', '=', id)
        .execute();
      for (const s of sourceKeys) {
        await db
          .insertInto('memory_record_sources')
          .values({ tenant_id: tenantId, record_id: id, source_id: s })
          .onConflict((oc) => oc.columns(['record_id', 'source_id']).doNothing())
          .execute();
      }
    },

    /** Ends a record's validity and points at its replacement; the row stays as history. */
    async supersede(id: string, at: number, validTo: number, by: string): Promise<void> {
      wrote();
      await db
        .updateTable('memory_records')
        .set({ superseded_at: at, valid_to: validTo, superseded_by: by })
        .where('id', '=', id)
        .where('superseded_at', 'is', null)
        .execute();
      await db.updateTable('memory_terms').set({ current: 0 }).where('record_id', '=', id).execute();
    },

    async setEmbedding(id: string, vector: Float32Array): Promise<void> {
      await db
        .updateTable('memory_records')
        .set({ embedding: toBytes(vector) })
        .where('id', '=', id)
        .execute();
    },

    /** Current records of one owner about `subject`/`attribute` (contradiction candidates). */
    async currentFacts(
      owner: OwnerKey,
      subject: string,
      attribute: string,
      factKey = plainFactKey(subject, attribute),
    ): Promise<RecordRow[]> {
      const rows = await db
        .selectFrom('memory_records')
        .selectAll()
        .where('tenant_id', '=', owner.tenantId)
        .where('user_id', '=', owner.userId)
        .where('agent_id', '=', owner.agentId)
        .where('fact_key', '=', factKey ?? '')
        .where('superseded_at', 'is', null)
        .execute();
      return rows.map(fromRow);
    },

    /** Current records of one owner with exactly this kind and text (duplicate candidates). */
    async sameText(
      owner: OwnerKey,
      kind: string,
      text: string,
      textKey = plainTextKey(kind, text),
    ): Promise<RecordRow | undefined> {
      const row = await db
        .selectFrom('memory_records')
        .selectAll()
        .where('tenant_id', '=', owner.tenantId)
        .where('user_id', '=', owner.userId)
        .where('agent_id', '=', owner.agentId)
        .where('kind', '=', kind)
        .where('text_key', '=', textKey)
        .where('superseded_at', 'is', null)
        .executeTakeFirst();
      return row ? fromRow(row) : undefined;
    },

    async get(reader: MemoryReader, ids: readonly string[], includeSuperseded = true): Promise<RecordRow[]> {
      if (ids.length === 0) return [];
      const rows = await visible(reader, { includeSuperseded })
        .selectAll('r')
        .where('r.id', 'in', [...ids])
        .execute();
      return rows.map(fromRow);
    },

    /** `get` without the content columns: what recall ranks by before it reads the top hits in full. */
    async headers(
      reader: MemoryReader,
      ids: readonly string[],
      includeSuperseded = true,
    ): Promise<RecordHeader[]> {
      if (ids.length === 0) return [];
      const rows = await visible(reader, { includeSuperseded })
        .select([
          'r.id',
          'r.tenant_id',
          'r.user_id',
          'r.agent_id',
          'r.kind',
          'r.conversation_id',
          'r.source_ids',
          'r.label_id',
          'r.valid_from',
          'r.valid_to',
          'r.recorded_at',
          'r.superseded_at',
          'r.superseded_by',
        ])
        .where('r.id', 'in', [...ids])
        .execute();
      return rows.map((row) => {
        const {
          text: _t,
          subject: _s,
          attribute: _a,
          value: _v,
          ...header
        } = fromRow({
          ...row,
          text: '',
          subject: null,
          attribute: null,
          value: null,
          doc_len: 0,
          embedding: null,
          fact_key: null,
          text_key: null,
        });
        return header;
      });
    },

    /** One record by id under a label scope, whoever owns it (the API decides who may act on it). */
    async byId(scope: ReadScope, id: string): Promise<RecordRow | undefined> {
      const row = await db
        .selectFrom('memory_records')
        .selectAll()
        .where('tenant_id', '=', scope.tenantId)
        .where('label_id', 'in', scope.labelIds.length ? [...scope.labelIds] : ['\u0000none'])
        .where('id', '=', id)
        .executeTakeFirst();
      return row ? fromRow(row) : undefined;
    },

    async list(reader: MemoryReader, options: SearchOptions & { before?: number }): Promise<RecordRow[]> {
      let q = visible(reader, options).selectAll('r');
      if (options.before !== undefined) q = q.where('r.recorded_at', '<', options.before);
      const rows = await q.orderBy('r.recorded_at', 'desc').orderBy('r.id').limit(options.limit).execute();
      return rows.map(fromRow);
    },

    /**
     * Okapi BM25 over the weighted term table, computed in SQL so only the top `limit` leave the
     * database. Collection statistics (N, avgdl, df) are taken over what the reader may see, so a
     * hidden record cannot even shift a visible record's score. The reader filters are columns of
     * `memory_terms` itself (0009-memory-search): each query term is one range of a covering index and
     * no record row is touched until the top hits are read. df, idf and the scores are one statement
     * (the term weights a derived table joined back to the postings): on PostgreSQL each statement is a
     * network round trip, and a separate df query doubled them (docs/benchmarks.md, "Memory"). Not a CTE
     * of the postings read twice: materialising them cost more than the round trip at 100k records.
     */
    async searchBm25(
      reader: MemoryReader,
      query: ReadonlyMap<string, number>,
      options: SearchOptions,
    ): Promise<{ id: string; score: number }[]> {
      const terms = [...query.keys()];
      if (terms.length === 0) return [];
      const { n, avgdl } = await collectionStats(reader, options);
      if (n === 0) return [];
      const dbl = (x: number) => sql`cast(${x} as double precision)`;
      const df = sql`cast(count(*) as double precision)`;
      const queryTf = sql.join(
        [...query].map(([term, tf]) => sql`when ${term} then ${dbl(tf)}`),
        sql` `,
      );
      // Per query term: idf × query tf × (k1 + 1), from the term's df over what the reader sees.
      const weights = postings(reader, options, terms)
        .select([
          't.term',
          sql<number>`ln(1 + (${dbl(n)} - ${df} + 0.5) / (${df} + 0.5)) * (case t.term ${queryTf} else 0 end) * ${dbl(
            BM25.k1 + 1,
          )}`.as('w'),
        ])
        .groupBy('t.term');
      const norm = sql`${dbl(BM25.k1 * (1 - BM25.b))} + ${dbl((BM25.k1 * BM25.b) / avgdl)} * t.doc_len`;
      const rows = await postings(reader, options, terms)
        .innerJoin(weights.as('w'), 'w.term', 't.term')
        .select(['t.record_id as id', sql<number>`sum(w.w * t.weight / (t.weight + ${norm}))`.as('score')])
        .groupBy('t.record_id')
        .orderBy('score', 'desc')
        .orderBy('t.record_id')
        .limit(options.limit)
        .execute();
      return rows.map((r) => ({ id: r.id, score: Number(r.score) }));
    },

    /** Embeddings of the records `reader` may see, newest first (brute-force vector search in process). */
    async embeddings(
      reader: MemoryReader,
      options: SearchOptions,
    ): Promise<{ id: string; vector: Float32Array }[]> {
      const rows = await visible(reader, options)
        .select(['r.id', 'r.embedding'])
        .where('r.embedding', 'is not', null)
        .orderBy('r.recorded_at', 'desc')
        .limit(options.limit)
        .execute();
      return rows.flatMap((r) => (r.embedding ? [{ id: r.id, vector: fromBytes(r.embedding) }] : []));
    },
  };
}

/** The record columns every posting carries (the search filters and the BM25 length). */
interface Posting {
  record_id: string;
  tenant_id: string;
  user_id: string;
  agent_id: string;
  label_id: string;
  kind: string;
  current: number;
  doc_len: number;
}

const postingOf = (r: RecordRow, docLen: number): Posting => ({
  record_id: r.id,
  tenant_id: r.owner.tenantId,
  user_id: r.owner.userId,
  agent_id: r.owner.agentId,
  label_id: r.labelId,
  kind: r.kind,
  current: r.supersededAt === null ? 1 : 0,
  doc_len: docLen,
});

async function insertTerms(db: Kysely<Database>, posting: Posting, terms: ReadonlyMap<string, number>) {
  const rows = [...terms].map(([term, weight]) => ({ ...posting, term, weight }));
  // Chunked so a long record stays under SQLite's bound-parameter limit (10 columns per row).
  for (let i = 0; i < rows.length; i += 80)
    await db
      .insertInto('memory_terms')
      .values(rows.slice(i, i + 80))
      .execute();
}

const unique = <T>(values: readonly T[]): T[] => [...new Set(values)];

function toRow(r: NewRecord, docLen: number): MemoryRecordTable {
  return {
    id: r.id,
    tenant_id: r.owner.tenantId,
    user_id: r.owner.userId,
    agent_id: r.owner.agentId,
    kind: r.kind,
    text: r.text,
    subject: r.subject,
    attribute: r.attribute,
    value: r.value,
    conversation_id: r.conversationId,
    source_ids: JSON.stringify(r.sourceIds),
    label_id: r.labelId,
    valid_from: r.validFrom,
    valid_to: r.validTo,
    recorded_at: r.recordedAt,
    superseded_at: r.supersededAt,
    superseded_by: r.supersededBy,
    doc_len: docLen,
    embedding: r.embedding ? toBytes(r.embedding) : null,
    fact_key: r.factKey !== undefined ? r.factKey : plainFactKey(r.subject, r.attribute),
    text_key: r.textKey ?? plainTextKey(r.kind, r.text),
  };
}

export function fromRow(row: MemoryRecordTable): RecordRow {
  return {
    id: row.id,
    owner: { tenantId: row.tenant_id, userId: row.user_id, agentId: row.agent_id },
    kind: row.kind,
    text: row.text,
    subject: row.subject,
    attribute: row.attribute,
    value: row.value,
    conversationId: row.conversation_id,
    sourceIds: JSON.parse(row.source_ids) as string[],
    labelId: row.label_id,
    validFrom: Number(row.valid_from),
    validTo: row.valid_to === null ? null : Number(row.valid_to),
    recordedAt: Number(row.recorded_at),
    supersededAt: row.superseded_at === null ? null : Number(row.superseded_at),
    supersededBy: row.superseded_by,
  };
}

const toBytes = (v: Float32Array): Uint8Array =>
  new Uint8Array(v.buffer.slice(v.byteOffset, v.byteOffset + v.byteLength));
const fromBytes = (b: Uint8Array): Float32Array => {
  const copy = new Uint8Array(b); // aligned copy: Buffers from drivers may start at any offset
  return new Float32Array(copy.buffer, 0, copy.byteLength / 4);
};
