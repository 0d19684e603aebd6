import type {
  MemoryRepo,
  NewRecord,
  OwnerKey,
  QuarantineRow,
  RecordRow,
  SourceRow,
} from '../store/repos/memory-repo.js';
import type { ContentCipher, SealContext } from './content-cipher.js';
import { memoryScope } from './content-scopes.js';
import type { MemoryBlindIndex } from './memory-blind-index.js';

/**
 * Long-term memory with every column that holds user text sealed under its owner's scope (`memoryScope`:
 * the user's, else the agent's, else the tenant's) and its search terms blinded (`MemoryBlindIndex`), so
 * the database holds no memory text, term or fact in the clear on either engine. The AAD binds tenant,
 * row id, column and label: a value moved to another row or column, or a relabelled row, does not open.
 *
 * Sealed: `memory_sources.{speaker,text}`, `memory_records.{text,subject,attribute,value}`,
 * `memory_quarantine.text`. Blind: `memory_terms.term`, `memory_records.{fact_key,text_key}`. In the clear:
 * ids, owners, labels, kinds, times, provenance ids and embedding vectors (numbers; see docs/encryption.md).
 * Records are never relabelled or rewritten in place (a supersession or a merge changes only clear
 * columns; an update is a new record), so nothing here re-seals.
 */
export function sealedMemoryRepo(
  inner: MemoryRepo,
  cipher: ContentCipher,
  blind: MemoryBlindIndex,
): MemoryRepo {
  const context = (owner: OwnerKey, objectId: string, kind: string, label: string): SealContext => ({
    tenant: owner.tenantId,
    objectId,
    kind,
    label,
    scope: memoryScope(owner),
  });
  const recordCtx = (r: Pick<RecordRow, 'id' | 'owner' | 'labelId'>, column: string) =>
    context(r.owner, r.id, `memory_record.${column}`, r.labelId);
  const sourceCtx = (owner: OwnerKey, s: SourceRow, column: string) =>
    context(owner, s.key, `memory_source.${column}`, s.labelId);
  const quarantineCtx = (q: QuarantineRow) => context(q.owner, q.id, 'memory_quarantine.text', q.labelId);

  const sealNullable = (ctx: SealContext, value: string | null) =>
    value === null ? null : cipher.seal(ctx, value);
  const openNullable = (ctx: SealContext, value: string | null) =>
    value === null ? null : cipher.open(ctx, value);

  const openRecord = async (r: RecordRow): Promise<RecordRow> => ({
    ...r,
    text: await cipher.open(recordCtx(r, 'text'), r.text),
    subject: await openNullable(recordCtx(r, 'subject'), r.subject),
    attribute: await openNullable(recordCtx(r, 'attribute'), r.attribute),
    value: await openNullable(recordCtx(r, 'value'), r.value),
  });
  const openRecords = (rows: readonly RecordRow[]) => inOrder(rows, openRecord);
  const sealRecord = async (r: NewRecord): Promise<NewRecord> => ({
    ...r,
    text: await cipher.seal(recordCtx(r, 'text'), r.text),
    subject: await sealNullable(recordCtx(r, 'subject'), r.subject),
    attribute: await sealNullable(recordCtx(r, 'attribute'), r.attribute),
    value: await sealNullable(recordCtx(r, 'value'), r.value),
    terms: await blind.terms(r.owner.tenantId, r.terms),
    factKey: await blind.factKey(r.owner.tenantId, r.subject, r.attribute),
    textKey: await blind.textKey(r.owner.tenantId, r.kind, r.text),
  });

  const openSources = (owner: OwnerKey, rows: readonly SourceRow[]) =>
    inOrder(rows, async (s) => ({
      ...s,
      speaker: await cipher.open(sourceCtx(owner, s, 'speaker'), s.speaker),
      text: await cipher.open(sourceCtx(owner, s, 'text'), s.text),
    }));

  const { sources, records, queue } = inner;
  return {
    lifecycle: inner.lifecycle,
    sources: {
      ...sources,
      async add(owner, rows, now) {
        const sealed = await inOrder(rows, async (s) => ({
          ...s,
          speaker: await cipher.seal(sourceCtx(owner, s, 'speaker'), s.speaker),
          text: await cipher.seal(sourceCtx(owner, s, 'text'), s.text),
        }));
        const added = new Set((await sources.add(owner, sealed, now)).map((s) => s.key));
        return rows.filter((s) => added.has(s.key));
      },
      window: async (owner, conversationId, session, fromSeq, toSeq) =>
        openSources(owner, await sources.window(owner, conversationId, session, fromSeq, toSeq)),
      adjacent: async (owner, s) => openSources(owner, await sources.adjacent(owner, s)),
      byTurnIds: async (owner, conversationId, turnIds) =>
        openSources(owner, await sources.byTurnIds(owner, conversationId, turnIds)),
      unextracted: async (owner, conversationId, limit) =>
        openSources(owner, await sources.unextracted(owner, conversationId, limit)),
    },
    records: {
      ...records,
      insert: async (record) => records.insert(await sealRecord(record)),
      reindex: async (tenantId, id, terms) =>
        records.reindex(tenantId, id, await blind.terms(tenantId, terms)),
      async currentFacts(owner, subject, attribute) {
        const key = await blind.factKey(owner.tenantId, subject, attribute);
        return openRecords(await records.currentFacts(owner, subject, attribute, key));
      },
      async sameText(owner, kind, text) {
        const key = await blind.textKey(owner.tenantId, kind, text);
        const row = await records.sameText(owner, kind, text, key);
        return row && openRecord(row);
      },
      get: async (reader, ids, includeSuperseded) =>
        openRecords(await records.get(reader, ids, includeSuperseded)),
      async byId(scope, id) {
        const row = await records.byId(scope, id);
        return row && openRecord(row);
      },
      list: async (reader, options) => openRecords(await records.list(reader, options)),
      searchBm25: async (reader, query, options) =>
        records.searchBm25(reader, await blind.terms(reader.scope.tenantId, query), options),
    },
    queue: {
      ...queue,
      quarantine: async (row) =>
        queue.quarantine({ ...row, text: await cipher.seal(quarantineCtx(row), row.text) }),
      async quarantined(tenantId, status) {
        const rows = await queue.quarantined(tenantId, status);
        return inOrder(rows, async (q) => ({ ...q, text: await cipher.open(quarantineCtx(q), q.text) }));
      },
    },
    // The reviewer's side of the quarantine (H3): same sealed text column.
    quarantine: {
      ...inner.quarantine,
      list: async (tenantId, options) =>
        inOrder(await inner.quarantine.list(tenantId, options), async (q) => ({
          ...q,
          text: await cipher.open(quarantineCtx(q), q.text),
        })),
      async byId(tenantId, id, labelIds) {
        const q = await inner.quarantine.byId(tenantId, id, labelIds);
        return q && { ...q, text: await cipher.open(quarantineCtx(q), q.text) };
      },
    },
  };
}

/**
 * One row after the other: the first seal or open of a scope fetches (or creates) its data key and every
 * later one hits the cache, where `Promise.all` would send every row after the same missing key at once.
 */
async function inOrder<T, R>(rows: readonly T[], fn: (row: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (const row of rows) out.push(await fn(row));
  return out;
}
