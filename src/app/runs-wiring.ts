import type { AuditLog } from '../audit/index.js';
import type { Config } from '../config/config.js';
import { RESPONSE_RUN, responseRunHandler } from '../runs/response-run.js';
import { ResponseRuns } from '../runs/response-runs.js';
import { createRunService, type RunService } from '../runs/run-service.js';
import type { Runtime } from '../runtime/index.js';
import type { Store } from '../store/store.js';
import type { Logger } from '../telemetry/logger.js';
import { toolsConfig } from '../tools/mcp/mcp-config.js';

export interface Runs {
  readonly service: RunService;
  /** The Responses API's side of durable runs (background, MCP tools, approvals, stream resume). */
  readonly responses: ResponseRuns;
}

/**
 * Durable runs on this node: the run service with the runtime's `response` handler. The worker pool is
 * started by the caller (`enclave serve`), which also resumes whatever was in flight when the last process
 * stopped or died: a run is a row in the store, so starting the pool is all resumption takes.
 */
export function createRuns(deps: {
  config: Config;
  store: Store;
  runtime: Runtime;
  audit: AuditLog;
  logger: Logger;
}): Runs {
  const service = createRunService({
    store: deps.store,
    audit: deps.audit,
    logger: deps.logger,
    handlers: {
      [RESPONSE_RUN]: responseRunHandler({
        runtime: deps.runtime.deps,
        store: deps.store,
        audit: deps.audit,
        tools: toolsConfig(deps.config),
      }),
    },
    concurrency: deps.config.runs.concurrency,
    leaseMs: deps.config.runs.leaseMs,
    pollMs: 250,
  });
  return { service, responses: new ResponseRuns(deps.store, deps.runtime, service) };
}
