import type { AuditLog } from '../audit/index.js';
import { configSection, type Config } from '../config/config.js';
import { memoryDeletionReceipt } from '../crypto/memory-forget.js';
import { isEnclaveError } from '../errors/index.js';
import { lub, parseCanonicalLabel, UNCLASSIFIED, type Label } from '../labels/index.js';
import {
  createMemoryService,
  labelRollup,
  llmExtractor,
  offlineExtractor,
  type MemoryExtractor,
  type MemoryService,
} from '../memory/index.js';
import { memoryConfigSchema, type MemoryConfig } from '../memory/memory-config.js';
import { startMemoryWorker, type MemoryWorker } from '../memory/memory-worker.js';
import { safetyScreen } from '../memory/safety-screen.js';
import { embedderFor } from './embeddings-wiring.js';
import { collectTurn, type ModelRouter } from '../providers/index.js';
import { accreditedFor } from '../runtime/accreditation.js';
import type { Safety } from '../safety/index.js';
import type { Store } from '../store/store.js';
import type { Logger } from '../telemetry/logger.js';

export interface Memory {
  readonly config: MemoryConfig;
  readonly service: MemoryService;
  /** The background extraction worker (started only when memory is enabled). */
  readonly worker: MemoryWorker | undefined;
  readonly audit: AuditLog;
}

/**
 * Long-term memory as the server and the CLI run it: every write through the safety screen, the LLM
 * extractor when a remote extraction model is configured (else the offline one), label roll-up over the
 * catalogue, and every forget's deletion receipt in the audit log.
 */
export function createMemory(deps: {
  config: Config;
  store: Store;
  safety: Safety;
  router: ModelRouter;
  audit: AuditLog;
  logger: Logger;
  /** Start the background worker (the server does; one-shot CLI commands drain themselves). */
  worker: boolean;
}): Memory {
  const config = configSection(deps.config, 'memory', memoryConfigSchema);
  const { store, audit } = deps;
  const service = createMemoryService({
    store,
    extractor: extractorFor(config, deps.router, store),
    screen: safetyScreen(deps.safety),
    lub: labelRollup(store.labels),
    // Hybrid recall's embeddings endpoint (`memory.embeddings`: OpenAI-compatible or Bedrock), accredited.
    embedder: embedderFor(config.embeddings, store.labels),
    onForget: async (tenantId, what, receipt) => {
      await audit.append(memoryDeletionReceipt(tenantId, what, receipt));
    },
  });
  const worker =
    deps.worker && config.enabled
      ? startMemoryWorker(service, {
          intervalMs: config.workerIntervalMs,
          retentionIntervalMs: config.retentionIntervalMs,
          onError: (error) => deps.logger.warn({ err: error }, 'memory extraction worker failed'),
        })
      : undefined;
  return { config, service, worker, audit };
}

function extractorFor(config: MemoryConfig, router: ModelRouter, store: Store): MemoryExtractor {
  const offline = offlineExtractor();
  const model = config.extractionModel;
  if (!model || model.startsWith('local/')) return offline;
  const labelOf = async (ids: readonly (string | undefined)[]): Promise<Label | undefined> => {
    let acc: Label = UNCLASSIFIED;
    for (const id of new Set(ids)) {
      const entry = id ? await store.labels.byId(id) : undefined;
      if (!entry) return undefined;
      acc = lub(acc, parseCanonicalLabel(entry.canonical));
    }
    return acc;
  };
  return {
    name: `llm:${model}`,
    async extract(turns) {
      // The turns go to the extraction endpoint only if it is accredited for their label (as any model call).
      const label = await labelOf(turns.map((t) => t.labelId));
      // A turn of unknown label goes to no remote endpoint.
      if (!label) return offline.extract(turns);
      const isAllowed = accreditedFor(label);
      const llm = llmExtractor(async (prompt, schema) => {
        const routed = await router.open(
          model,
          {
            instructions: `Answer with one JSON object matching this JSON Schema:\n${JSON.stringify(schema)}`,
            items: [{ type: 'message', role: 'user', text: prompt }],
          },
          { isAllowed },
        );
        return (await collectTurn(routed.events)).text;
      });
      try {
        return await llm.extract(turns);
      } catch (error) {
        // Not accredited for this batch: learn from it offline rather than not at all.
        if (isEnclaveError(error) && error.code === 'not_accredited') return offline.extract(turns);
        throw error;
      }
    },
  };
}
