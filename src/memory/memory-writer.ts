import { randomUUID } from 'node:crypto';
import { EnclaveError } from '../errors/index.js';
import type { MemoryRepo, OwnerKey, RecordRow, SourceRow } from '../store/repos/memory-repo.js';
import { admitted, type Embedder } from './embedder.js';
import { termWeights, type TermWeights } from './index-document.js';
import type { ScreenMemory } from './screen.js';
import type { MemoryKind } from './types.js';

/** Label roll-up of several sources (src/labels' lub over catalogue ids), injected by the composition root. */
export type LubLabels = (labelIds: readonly string[]) => Promise<string>;

export interface WriterDeps {
  repo: MemoryRepo;
  screen?: ScreenMemory | undefined;
  embedder?: Embedder | undefined;
  lub?: LubLabels | undefined;
  now: () => number;
}

export interface RecordInput {
  /** Fixed id (episodes use one derived from their turn); absent = a new random id. */
  id?: string | undefined;
  owner: OwnerKey;
  kind: MemoryKind;
  text: string;
  subject?: string | undefined;
  attribute?: string | undefined;
  value?: string | undefined;
  conversationId: string | null;
  validFrom: number;
  sources: readonly SourceRow[];
  /** Required when there are no sources (a record created through the API). */
  labelId?: string | undefined;
  terms?: TermWeights | undefined;
}

export type WriteOutcome =
  | { status: 'created'; id: string }
  | { status: 'merged'; id: string }
  | { status: 'updated'; id: string; superseded: string[] }
  | { status: 'quarantined'; id: string; reason: string };

export const newId = (prefix: string): string => `${prefix}_${randomUUID().replace(/-/gu, '')}`;
const norm = (s: string): string => s.trim().toLowerCase().replace(/\s+/gu, ' ');

/**
 * The one path by which anything becomes memory: screen → label roll-up → consolidate
 * (duplicate merges its provenance; a new value for the same subject+attribute supersedes the old
 * record bi-temporally) → insert with terms (and a vector when an embedder is configured).
 */
export function memoryWriter(deps: WriterDeps) {
  async function labelOf(input: RecordInput): Promise<string> {
    const ids = [...new Set(input.sources.map((s) => s.labelId))];
    if (ids.length === 0) {
      if (!input.labelId)
        throw new EnclaveError('invalid_label', 'A memory without source turns needs a label.');
      return input.labelId;
    }
    if (ids.length === 1 && (!input.labelId || input.labelId === ids[0])) return ids[0] as string;
    if (!deps.lub) {
      // Failing closed: without the lattice we cannot compute the high-water mark of mixed labels.
      throw new EnclaveError(
        'invalid_label',
        'Sources with different labels need the label lattice (src/labels).',
      );
    }
    return deps.lub(input.labelId ? [...ids, input.labelId] : ids);
  }

  return {
    async write(input: RecordInput): Promise<WriteOutcome> {
      const now = deps.now();
      const labelId = await labelOf(input);
      const sourceIds = [...new Set(input.sources.map((s) => s.turnId))];
      const sourceKeys = input.sources.map((s) => s.key);
      const verdict = deps.screen
        ? await deps.screen(input.text, input.owner.tenantId)
        : { quarantine: false, reason: '' };
      if (verdict.quarantine) {
        const id = newId('memq');
        await deps.repo.queue.quarantine({
          id,
          owner: input.owner,
          kind: input.kind,
          text: input.text,
          reason: verdict.reason,
          sourceIds,
          labelId,
          status: 'pending',
          createdAt: now,
          decidedAt: null,
        });
        return { status: 'quarantined', id, reason: verdict.reason };
      }
      const duplicate = await findDuplicate(input);
      if (duplicate && duplicate.labelId === labelId) {
        const merged = [...new Set([...duplicate.sourceIds, ...sourceIds])];
        await deps.repo.records.addSources(input.owner.tenantId, duplicate.id, merged, sourceKeys);
        return { status: 'merged', id: duplicate.id };
      }
      const id = input.id ?? newId('mem');
      const superseded: string[] = [];
      if (input.subject && input.attribute && input.value) {
        for (const old of await deps.repo.records.currentFacts(input.owner, input.subject, input.attribute)) {
          if (norm(old.value ?? '') === norm(input.value)) continue;
          await deps.repo.records.supersede(old.id, now, input.validFrom, id);
          superseded.push(old.id);
        }
      }
      const terms = input.terms ?? termWeights([{ text: input.text, weight: 1 }]);
      // A record's text reaches the embeddings endpoint only if it is accredited for the record's label.
      const embedding =
        deps.embedder && (await admitted(deps.embedder, [labelId]))
          ? (await deps.embedder.embed([input.text]))[0]
          : undefined;
      await deps.repo.records.insert({
        id,
        owner: input.owner,
        kind: input.kind,
        text: input.text,
        subject: input.subject ?? null,
        attribute: input.attribute ?? null,
        value: input.value ?? null,
        conversationId: input.conversationId,
        sourceIds,
        labelId,
        validFrom: input.validFrom,
        validTo: null,
        recordedAt: now,
        supersededAt: null,
        supersededBy: null,
        terms,
        sourceKeys,
        embedding,
      });
      return superseded.length ? { status: 'updated', id, superseded } : { status: 'created', id };
    },
  };

  async function findDuplicate(input: RecordInput): Promise<RecordRow | undefined> {
    if (input.kind === 'episode') return undefined; // each turn is its own episode
    if (input.subject && input.attribute && input.value) {
      const facts = await deps.repo.records.currentFacts(input.owner, input.subject, input.attribute);
      return facts.find((f) => norm(f.value ?? '') === norm(input.value ?? ''));
    }
    return deps.repo.records.sameText(input.owner, input.kind, input.text);
  }
}

export type MemoryWriter = ReturnType<typeof memoryWriter>;
