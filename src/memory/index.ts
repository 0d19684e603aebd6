/** Long-term memory: what the runtime, API and CLI use (see docs/memory.md). */
export {
  createMemoryService,
  recordTurns,
  type MemoryService,
  type MemoryServiceOptions,
  type TurnInput,
} from './memory-service.js';
export { memoryContext } from './memory-context.js';
export {
  memoryToolSpec,
  parseMemoryToolArgs,
  runMemoryTool,
  type MemoryToolArgs,
  type MemoryToolResult,
} from './memory-tool.js';
export type { RecallOptions } from './recall.js';
export type { MemoryExtractor, ExtractionTurn } from './extract/extractor.js';
export { offlineExtractor } from './extract/offline-extractor.js';
export {
  llmExtractor,
  extractionSchema,
  parseExtraction,
  type CompleteJson,
} from './extract/llm-extractor.js';
export { openAiEmbedder, type Embedder } from './embedder.js';
export type { ScreenMemory, ScreenVerdict } from './screen.js';
export { labelRollup, labelIdOfBanner, readScopeFor } from './label-rollup.js';
export * from './types.js';
