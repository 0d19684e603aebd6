import { z } from 'zod';
import { configSection, type Config } from '../config/config.js';
import { ModelRegistry, ModelRouter } from '../providers/index.js';
import type { Store } from '../store/store.js';
import { Conversations } from './conversations.js';
import { LabelAccess } from './label-access.js';
import type { AuditContentSealer } from '../audit/audit-content.js';
import type { AuditLog } from '../audit/audit-log.js';
import { DecisionAudit } from './audit-decisions.js';
import { LabelDowngrades } from './label-downgrade.js';
import { Responses } from './responses.js';
import type { RuntimeDeps } from './turn.js';
import type { SafetyGate } from './safety-gate.js';
import type { MemoryRuntime } from './memory-hooks.js';

export { Conversations } from './conversations.js';
export { Responses } from './responses.js';
export { LabelAccess } from './label-access.js';
export type { CreateResponse, FunctionTool, PreparedTurn, RuntimeDeps } from './turn.js';
export type { ChatRequest } from './chat-completions.js';
export { SafetyGate, safetyGateConfig } from './safety-gate.js';
export { screenInputs, requireInputsAllowed, type InputScreening } from './safety-inputs.js';
export type { InputItem, TextPart, MessageRole } from './items.js';
export type { ResponseParams } from './response-object.js';
export type { StreamEvent } from './response-events.js';

/** The `responses` config section: server-wide defaults of the stateful API. */
const responsesConfigSchema = z
  .object({
    /** Compact a conversation's history into a summary once it passes this many tokens (requests may override). */
    compactThreshold: z.number().int().positive().optional(),
  })
  .strict();

/** The stateful runtime: one object per server, shared by the API routes. */
export interface Runtime {
  readonly deps: RuntimeDeps;
  readonly labels: LabelAccess;
  readonly router: ModelRouter;
  readonly responses: Responses;
  readonly conversations: Conversations;
  /** Trusted downgrade (two-person rule), `/v1/labels/downgrades`. */
  readonly downgrades: LabelDowngrades;
}

export function createRuntime(
  config: Config,
  store: Store,
  router: ModelRouter = new ModelRouter(ModelRegistry.fromConfig(config)),
  /** `audit` receives every access decision and model call (audit-decisions.ts); required: fail-closed. */
  options: {
    safety?: SafetyGate;
    audit: AuditLog;
    memory?: MemoryRuntime | undefined;
    /** Set when `audit.storeContent` is on: model.call entries then carry their prompt sealed. */
    auditContent?: AuditContentSealer | undefined;
  },
): Runtime {
  const section = configSection(config, 'responses', responsesConfigSchema);
  const labels = new LabelAccess(store, new DecisionAudit(options.audit, options.auditContent));
  const deps: RuntimeDeps = {
    store,
    labels,
    router,
    compactThreshold: section.compactThreshold,
    safety: options.safety,
    memory: options.memory,
  };
  return {
    deps,
    labels,
    router,
    responses: new Responses(deps),
    conversations: new Conversations({ store, labels, memory: options.memory }),
    downgrades: new LabelDowngrades({ store, labels }),
  };
}
