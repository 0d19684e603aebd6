import type { MemoryDraft } from '../types.js';

/** A turn as an extractor sees it: its caller id, who said it, when (epoch ms) and what. */
export interface ExtractionTurn {
  id: string;
  speaker: string;
  text: string;
  occurredAt: number;
  /** The turn's label id: an extractor that sends turns elsewhere must respect it (accreditation). */
  labelId?: string | undefined;
}

/**
 * Turns → proposed memories. Implementations never write: the consolidator decides what is new, a
 * duplicate or an update, and every draft must name the turn ids it came from (provenance).
 */
export interface MemoryExtractor {
  readonly name: string;
  extract(turns: readonly ExtractionTurn[]): Promise<MemoryDraft[]>;
}
