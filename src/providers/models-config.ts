import { z } from 'zod';
import { configSection, type Config } from '../config/config.js';
import { EnclaveError } from '../errors/index.js';

/**
 * The `models` section of the config file: which model endpoints exist, how to reach them, how long to
 * wait, how often to retry, where to fall back, and for which labels each is accredited. Without a
 * section, defaults come from the environment (see defaultEndpoints).
 */

/** Carried for the labels module, which defines the check; here it is only data. */
export const accreditationSchema = z
  .object({
    /** Highest canonical label the endpoint may receive, e.g. "SECRET". */
    label: z.string().min(1).optional(),
    compartments: z.array(z.string().min(1)).default([]),
    /** Nations operating the endpoint (REL TO countries, FVEY etc. allowed); absent: a U.S. system. */
    releasableTo: z.array(z.string().regex(/^[A-Z]{3,4}$/, 'a trigraph or tetragraph')).optional(),
    /** Need-to-know tokens the endpoint is accredited for (a label's access expression must be satisfied). */
    authorizations: z.array(z.string().min(1)).optional(),
  })
  .strict();

const endpointSchema = z
  .object({
    /** `provider/model`, e.g. `openai/gpt-4.1-mini`; the prefix names the provider unless `provider` is set. */
    id: z.string().regex(/^[a-z0-9][a-z0-9_.-]*\/\S+$/, 'must look like provider/model'),
    provider: z.string().min(1).optional(),
    /** The name the upstream knows the model by; defaults to the part after the first `/` of the id. */
    model: z.string().min(1).optional(),
    contextWindow: z.number().int().positive().optional(),
    /** openai: an OpenAI-compatible server; bedrock: a VPC or test endpoint. */
    baseUrl: z.url().optional(),
    /** openai: the environment variable holding the key (keys never go in the config file). */
    apiKeyEnv: z.string().min(1).optional(),
    maxTokensField: z.enum(['max_tokens', 'max_completion_tokens']).optional(),
    includeUsage: z.boolean().optional(),
    /** bedrock: region, else AWS_REGION. */
    region: z.string().min(1).optional(),
    /** bedrock: ConverseStream (true, default) or Converse. */
    streaming: z.boolean().optional(),
    /** Longest wait for the first event, and between two events, in ms. */
    timeoutMs: z.number().int().positive().optional(),
    /** Extra attempts on this endpoint after a retryable failure, before falling back. */
    retries: z.number().int().min(0).max(10).optional(),
    /** Endpoint ids tried in order when this one fails with 429/5xx/timeout. */
    fallback: z.array(z.string().min(1)).default([]),
    accreditation: accreditationSchema.optional(),
  })
  .strict();

export const modelsConfigSchema = z
  .object({
    endpoints: z.array(endpointSchema).optional(),
    defaults: z
      .object({
        timeoutMs: z.number().int().positive().optional(),
        retries: z.number().int().min(0).max(10).optional(),
        /** First retry waits about this long (jittered), doubling up to maxBackoffMs. */
        backoffMs: z.number().int().min(0).optional(),
        maxBackoffMs: z.number().int().min(0).optional(),
      })
      .strict()
      .default({}),
  })
  .strict();

export type ModelsConfig = z.output<typeof modelsConfigSchema>;
export type EndpointConfig = z.output<typeof endpointSchema>;
export type Accreditation = z.output<typeof accreditationSchema>;

/** One resolved endpoint: everything the router and a provider factory need. */
export interface ModelEndpoint extends Omit<
  EndpointConfig,
  'provider' | 'model' | 'contextWindow' | 'timeoutMs' | 'retries'
> {
  provider: string;
  model: string;
  contextWindow: number;
  timeoutMs: number;
  retries: number;
}

export interface RetryPolicy {
  backoffMs: number;
  maxBackoffMs: number;
}

export const builtInDefaults = {
  timeoutMs: 60_000,
  retries: 1,
  backoffMs: 250,
  maxBackoffMs: 4_000,
} as const;
export const localEchoId = 'local/echo';

/** Known context windows of common hosted models; anything else gets 128k unless configured. */
function knownContextWindow(provider: string, model: string): number {
  if (provider === 'local') return 32_768;
  if (/^gpt-4\.1/.test(model)) return 1_047_576;
  if (/^(o3|o4-mini|o1)/.test(model) || /anthropic\.claude/.test(model)) return 200_000;
  return 128_000;
}

const envList = (value: string | undefined): string[] =>
  (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

/**
 * With no `endpoints` configured: `local/echo` always; `openai/<m>` for each of ENCLAVE_OPENAI_MODELS
 * (default gpt-4.1-mini) when OPENAI_API_KEY or OPENAI_BASE_URL is set; `bedrock/<m>` for each of
 * ENCLAVE_BEDROCK_MODELS. With `endpoints`, exactly those, plus `local/echo` unless listed.
 */
export function defaultEndpoints(env: NodeJS.ProcessEnv): EndpointConfig[] {
  const endpoints: EndpointConfig[] = [{ id: localEchoId, fallback: [] }];
  if (env.OPENAI_API_KEY || env.OPENAI_BASE_URL) {
    const models = envList(env.ENCLAVE_OPENAI_MODELS);
    for (const model of models.length > 0 ? models : ['gpt-4.1-mini'])
      endpoints.push({ id: `openai/${model}`, fallback: [] });
  }
  for (const model of envList(env.ENCLAVE_BEDROCK_MODELS))
    endpoints.push({ id: `bedrock/${model}`, fallback: [] });
  return endpoints;
}

export interface ResolvedModels {
  endpoints: ModelEndpoint[];
  retry: RetryPolicy;
}

export function resolveModels(
  section: ModelsConfig,
  env: NodeJS.ProcessEnv,
  knownProviders: readonly string[],
): ResolvedModels {
  const given = section.defaults;
  const d = {
    timeoutMs: given.timeoutMs ?? builtInDefaults.timeoutMs,
    retries: given.retries ?? builtInDefaults.retries,
    backoffMs: given.backoffMs ?? builtInDefaults.backoffMs,
    maxBackoffMs: given.maxBackoffMs ?? builtInDefaults.maxBackoffMs,
  };
  const configured = section.endpoints ?? defaultEndpoints(env);
  const all = configured.some((e) => e.id === localEchoId)
    ? configured
    : [{ id: localEchoId, fallback: [] }, ...configured];
  const ids = new Set<string>();
  const endpoints = all.map((e): ModelEndpoint => {
    if (ids.has(e.id)) throw invalid(`duplicate model endpoint id '${e.id}'`);
    ids.add(e.id);
    const slash = e.id.indexOf('/');
    const provider = e.provider ?? e.id.slice(0, slash);
    if (!knownProviders.includes(provider)) {
      throw invalid(
        `endpoint '${e.id}' names unknown provider '${provider}' (known: ${knownProviders.join(', ')})`,
      );
    }
    const model = e.model ?? e.id.slice(slash + 1);
    return {
      ...e,
      provider,
      model,
      contextWindow: e.contextWindow ?? knownContextWindow(provider, model),
      timeoutMs: e.timeoutMs ?? d.timeoutMs,
      retries: e.retries ?? d.retries,
    };
  });
  for (const e of endpoints) {
    for (const f of e.fallback)
      if (!ids.has(f)) throw invalid(`endpoint '${e.id}' falls back to unknown endpoint '${f}'`);
  }
  return { endpoints, retry: { backoffMs: d.backoffMs, maxBackoffMs: d.maxBackoffMs } };
}

const invalid = (what: string) => new EnclaveError('invalid_request', `Invalid config at models: ${what}.`);

/** Reads and resolves the `models` section of a loaded Config. */
export function loadModels(
  config: Config,
  knownProviders: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): ResolvedModels {
  return resolveModels(configSection(config, 'models', modelsConfigSchema), env, knownProviders);
}
