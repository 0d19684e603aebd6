// The providers module's public face: what the runtime and the API import.
export type * from './model-provider.js';
export { collectTurn, type CollectedTurn } from './collect-turn.js';
export {
  ModelRouter,
  type Attempt,
  type EndpointCheck,
  type ModelRouterOptions,
  type RouteOptions,
  type RoutedTurn,
  type TurnRequest,
} from './model-router.js';
export { ModelRegistry, providerFactories, type ModelInfo, type ProviderFactory } from './registry.js';
export {
  loadModels,
  resolveModels,
  modelsConfigSchema,
  localEchoId,
  type Accreditation,
  type ModelEndpoint,
  type ModelsConfig,
} from './models-config.js';
export { UpstreamError, isRetryable, sanitizeUpstreamMessage } from './provider-error.js';
export {
  countTokens,
  countItemTokens,
  countRequestTokens,
  truncateToTokens,
  encodingForModel,
} from './tokens.js';
export { extractiveSummary } from './local/extractive-summary.js';
export { localPrefix } from './local/local-rules.js';
