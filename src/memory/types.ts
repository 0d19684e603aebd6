/**
 * The memory domain's vocabulary. Memory is bi-temporal (like Graphiti): `validFrom/validTo` say when a
 * fact held in the world, `recordedAt/supersededAt` when Enclave believed it. Nothing is overwritten:
 * a contradicted record gets an end of validity and a pointer to what replaced it.
 */
export const memoryKinds = ['episode', 'fact', 'preference', 'event', 'plan', 'entity', 'summary'] as const;
/** `episode` is a stored turn with its neighbours as context; the rest are extracted or consolidated. */
export type MemoryKind = (typeof memoryKinds)[number];

/** Who a memory belongs to. An empty user/agent means "shared across the tenant" on that axis. */
export interface MemoryOwner {
  tenantId: string;
  userId: string;
  agentId: string;
}

/** Which labels a reader may see (catalogue ids), applied inside the SQL WHERE clause. */
export type { ReadScope } from '../store/repos/memory-repo.js';

/** What an extractor proposes; the consolidator decides whether it is new, a duplicate or an update. */
export interface MemoryDraft {
  kind: Exclude<MemoryKind, 'episode' | 'summary'>;
  text: string;
  /** For facts/preferences: who/what it is about and which property, so updates can be recognised. */
  subject?: string | undefined;
  attribute?: string | undefined;
  value?: string | undefined;
  /** Epoch ms the fact/event starts to hold (an event's date); absent = when it was said. */
  validFrom?: number | undefined;
  sourceIds: readonly string[];
}

export interface MemoryRecord {
  id: string;
  owner: MemoryOwner;
  kind: MemoryKind;
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

export interface MemoryHit {
  record: MemoryRecord;
  score: number;
}
