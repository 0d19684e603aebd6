import type { Config } from '../config/config.js';
import { EnclaveError } from '../errors/index.js';
import { BedrockProvider } from './bedrock/bedrock-provider.js';
import { LocalProvider } from './local/local-provider.js';
import type { ModelProvider } from './model-provider.js';
import { loadModels, type ModelEndpoint, type ResolvedModels, type RetryPolicy } from './models-config.js';
import { OpenAIProvider } from './openai/openai-provider.js';

/** Builds the provider for one endpoint. Adding a provider = its folder + one line in `providerFactories`. */
export type ProviderFactory = (endpoint: ModelEndpoint, env: NodeJS.ProcessEnv) => ModelProvider;

export const providerFactories: Readonly<Record<string, ProviderFactory>> = {
  local: () => new LocalProvider(),
  openai: (e, env) =>
    new OpenAIProvider({
      endpointId: e.id,
      baseURL: e.baseUrl ?? env.OPENAI_BASE_URL,
      apiKey: env[e.apiKeyEnv ?? 'OPENAI_API_KEY'] || undefined,
      maxTokensField: e.maxTokensField,
      includeUsage: e.includeUsage,
    }),
  bedrock: (e, env) =>
    new BedrockProvider({
      endpointId: e.id,
      region: e.region ?? env.AWS_REGION,
      endpoint: e.baseUrl,
      streaming: e.streaming,
    }),
};

/** What GET /v1/models shows: nothing about where or how an endpoint is reached. */
export interface ModelInfo {
  id: string;
  provider: string;
  contextWindow: number;
}

/** The configured endpoints, each with its (lazily built, then reused) provider. */
export class ModelRegistry {
  private readonly byId: ReadonlyMap<string, ModelEndpoint>;
  private readonly providers = new Map<string, ModelProvider>();

  constructor(
    resolved: ResolvedModels,
    private readonly factories: Readonly<Record<string, ProviderFactory>> = providerFactories,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {
    this.byId = new Map(resolved.endpoints.map((e) => [e.id, e]));
    this.retry = resolved.retry;
  }

  readonly retry: RetryPolicy;

  static fromConfig(config: Config, env: NodeJS.ProcessEnv = process.env): ModelRegistry {
    return new ModelRegistry(loadModels(config, Object.keys(providerFactories), env), providerFactories, env);
  }

  get endpoints(): ModelEndpoint[] {
    return [...this.byId.values()];
  }

  /** The endpoint for a model id, or a 404 naming the model (OpenAI answers unknown models with 404 too). */
  resolve(modelId: string): ModelEndpoint {
    const endpoint = this.byId.get(modelId);
    if (!endpoint) {
      throw new EnclaveError(
        'not_found',
        `The model '${modelId}' does not exist; GET /v1/models lists the configured ones.`,
        {
          param: 'model',
        },
      );
    }
    return endpoint;
  }

  /** The endpoint, then its fallbacks in order, each once. */
  chain(modelId: string): ModelEndpoint[] {
    const first = this.resolve(modelId);
    const seen = new Set([first.id]);
    const chain = [first];
    for (const id of first.fallback) {
      if (seen.has(id)) continue;
      seen.add(id);
      chain.push(this.resolve(id));
    }
    return chain;
  }

  provider(endpoint: ModelEndpoint): ModelProvider {
    let provider = this.providers.get(endpoint.id);
    if (!provider) {
      const factory = this.factories[endpoint.provider];
      if (!factory)
        throw new EnclaveError('internal', `No provider named '${endpoint.provider}' is built in.`);
      provider = factory(endpoint, this.env);
      this.providers.set(endpoint.id, provider);
    }
    return provider;
  }

  listModels(): ModelInfo[] {
    return this.endpoints.map((e) => ({ id: e.id, provider: e.provider, contextWindow: e.contextWindow }));
  }
}
