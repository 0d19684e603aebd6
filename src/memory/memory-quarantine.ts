import type { MemoryRepo, QuarantineRow } from '../store/repos/memory-repo.js';
import type { Embedder } from './embedder.js';
import { memoryWriter, type LubLabels, type WriteOutcome } from './memory-writer.js';
import { memoryKinds, type MemoryKind } from './types.js';

/**
 * A reviewer's release of a quarantined write: the record enters memory (and recall) through the writer's
 * usual consolidation, label roll-up and indexing — without the screen, which already spoke and was
 * overruled by a human. Provenance is kept: the entry's source turns (if still stored) become the record's
 * sources, so forgetting them later takes the released record along. An episode gets its turn's episode id,
 * so the extraction job never indexes the same turn twice; it is indexed by its own words only (its
 * neighbours' words were never read for it).
 */
export function quarantineReleaser(deps: {
  repo: MemoryRepo;
  embedder?: Embedder | undefined;
  lub?: LubLabels | undefined;
  now: () => number;
}) {
  const writer = memoryWriter({ ...deps, screen: undefined });
  return async function release(entry: QuarantineRow): Promise<WriteOutcome> {
    const sources = await deps.repo.quarantine.sources(entry.owner, entry.sourceIds);
    const kind: MemoryKind = (memoryKinds as readonly string[]).includes(entry.kind)
      ? (entry.kind as MemoryKind)
      : 'fact';
    const episodeOf = kind === 'episode' && sources.length === 1 ? sources[0] : undefined;
    return writer.write({
      ...(episodeOf ? { id: `ep_${episodeOf.key}` } : {}),
      owner: entry.owner,
      kind,
      text: entry.text,
      conversationId: sources[0]?.conversationId ?? null,
      validFrom: episodeOf?.occurredAt ?? entry.createdAt,
      sources,
      labelId: entry.labelId,
    });
  };
}
