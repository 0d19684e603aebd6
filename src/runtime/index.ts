import { z } from 'zod';
import { configSection, type Config } from '../config/config.js';
import { ModelRegistry, ModelRouter } from '../providers/index.js';
import type { Store } from '../store/store.js';
import { Conversations } from './conversations.js';
import { LabelAccess } from './label-access.js';
import { Responses } from './responses.js';
import type { RuntimeDeps } from './turn.js';

export { Conversations } from './conversations.js';
export { Responses } from './responses.js';
export { LabelAccess } from './label-access.js';
export type { CreateResponse, FunctionTool, PreparedTurn, RuntimeDeps } from './turn.js';
export type { ChatRequest } from './chat-completions.js';
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
}

export function createRuntime(
  config: Config,
  store: Store,
  router: ModelRouter = new ModelRouter(ModelRegistry.fromConfig(config)),
): Runtime {
  const section = configSection(config, 'responses', responsesConfigSchema);
  const labels = new LabelAccess(store);
  const deps: RuntimeDeps = { store, labels, router, compactThreshold: section.compactThreshold };
  return {
    deps,
    labels,
    router,
    responses: new Responses(deps),
    conversations: new Conversations({ store, labels }),
  };
}
