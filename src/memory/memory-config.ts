import { z } from 'zod';
import { embeddingsConfigSchema } from './embeddings-config.js';

/**
 * The `memory` config section. Off by default: when on, every stored turn is learned from (background
 * extraction) and recalled memories join the context of the principal's later turns.
 */
export const memoryConfigSchema = z
  .object({
    enabled: z.boolean().default(false),
    /** `provider/model` extracting memories with the LLM extractor; absent or `local/…` = the offline extractor. */
    extractionModel: z
      .string()
      .regex(/^[a-z0-9][a-z0-9_.-]*\/\S+$/, 'must look like provider/model')
      .optional(),
    /** Memories injected per turn. */
    recallK: z.number().int().min(1).max(20).default(5),
    /** How often the background worker looks for extraction jobs, ms. */
    workerIntervalMs: z.number().int().min(10).max(3_600_000).default(1000),
    /** The embeddings endpoint of hybrid recall (embeddings-config.ts); absent = BM25 alone. */
    embeddings: embeddingsConfigSchema.optional(),
    /** How often the worker applies every tenant's retention policy (`enclave memory retention`), ms. */
    retentionIntervalMs: z.number().int().min(10).max(86_400_000).default(3_600_000),
  })
  .strict();

export type MemoryConfig = z.output<typeof memoryConfigSchema>;
