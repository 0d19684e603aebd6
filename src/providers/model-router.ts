import { EnclaveError } from '../errors/index.js';
import { abortableSleep, backoffDelay, type Sleep } from './backoff.js';
import { collectTurn, type CollectedTurn } from './collect-turn.js';
import type { ModelEvent, ModelRequest } from './model-provider.js';
import type { ModelEndpoint } from './models-config.js';
import { UpstreamError, isRetryable, upstreamTimeout } from './provider-error.js';
import type { ModelInfo, ModelRegistry } from './registry.js';

/**
 * Decides before any contact whether an endpoint may receive this request (the labels module checks
 * accreditation here): `true` allows; `false` or a reason string refuses, and the endpoint is skipped.
 */
export type EndpointCheck = (endpoint: ModelEndpoint) => boolean | string;

export interface RouteOptions {
  isAllowed?: EndpointCheck | undefined;
  /** The caller's signal (client disconnect, cancel): aborts the turn, never triggers fallback. */
  signal?: AbortSignal | undefined;
}

export interface Attempt {
  endpoint: string;
  outcome: 'refused' | 'failed' | 'answered';
  /** Why it was refused, or the error code it failed with. */
  reason?: string;
}

export interface RoutedTurn {
  /** The endpoint that answered: record its id, provider and model with the response. */
  endpoint: ModelEndpoint;
  /** The answer's events; the first has already arrived. */
  events: AsyncIterable<ModelEvent>;
  attempts: Attempt[];
  /**
   * Whether a model was contacted for these events in this process (read once they were consumed). A durable
   * run's journaled router replays recorded calls (`false`), which must not be audited as new model calls.
   * Absent: always live.
   */
  live?: () => boolean;
}

export type TurnRequest = Omit<ModelRequest, 'model' | 'signal'>;

export interface ModelRouterOptions {
  sleep?: Sleep;
  random?: () => number;
}

/**
 * Runs a model turn on a model id's endpoint chain (the endpoint, then its fallbacks). Fallback and
 * retries happen only until the first event arrives: after that the client has seen output, so a
 * failure is the turn's failure. Retryable = 429, 5xx, timeouts, unreachable; a 4xx ends the turn.
 */
export class ModelRouter {
  private readonly sleep: Sleep;
  private readonly random: () => number;

  constructor(
    readonly registry: ModelRegistry,
    options: ModelRouterOptions = {},
  ) {
    this.sleep = options.sleep ?? abortableSleep;
    this.random = options.random ?? Math.random;
  }

  resolve(modelId: string): ModelEndpoint {
    return this.registry.resolve(modelId);
  }

  listModels(isAllowed?: EndpointCheck): ModelInfo[] {
    const allowed = new Set(
      this.registry.endpoints.filter((e) => !isAllowed || isAllowed(e) === true).map((e) => e.id),
    );
    return this.registry.listModels().filter((m) => allowed.has(m.id));
  }

  async open(modelId: string, request: TurnRequest, options: RouteOptions = {}): Promise<RoutedTurn> {
    const { signal, isAllowed } = options;
    const attempts: Attempt[] = [];
    let lastError: unknown;
    for (const endpoint of this.registry.chain(modelId)) {
      const verdict = isAllowed ? isAllowed(endpoint) : true;
      if (verdict !== true) {
        attempts.push({
          endpoint: endpoint.id,
          outcome: 'refused',
          reason: verdict === false ? 'not allowed' : verdict,
        });
        continue;
      }
      for (let attempt = 0; attempt <= endpoint.retries; attempt++) {
        if (attempt > 0) {
          const retryAfter = lastError instanceof UpstreamError ? lastError.retryAfterMs : undefined;
          await this.sleep(backoffDelay(attempt, this.registry.retry, this.random, retryAfter), signal);
        }
        signal?.throwIfAborted();
        try {
          const events = await startTurn(endpoint, this.registry, request, signal);
          attempts.push({ endpoint: endpoint.id, outcome: 'answered' });
          return { endpoint, events, attempts };
        } catch (error) {
          if (signal?.aborted) throw signal.reason;
          attempts.push({
            endpoint: endpoint.id,
            outcome: 'failed',
            reason: error instanceof EnclaveError ? error.code : 'error',
          });
          if (!isRetryable(error)) throw error;
          lastError = error;
        }
      }
    }
    if (lastError !== undefined) throw lastError;
    const reasons = attempts.map((a) => `${a.endpoint}: ${a.reason ?? 'not allowed'}`).join('; ');
    throw new EnclaveError(
      'not_accredited',
      `No endpoint for model '${modelId}' may receive this request (${reasons}).`,
      {
        param: 'model',
      },
    );
  }

  /** A whole turn at once (non-streaming callers, compaction). */
  async complete(
    modelId: string,
    request: TurnRequest,
    options: RouteOptions = {},
  ): Promise<CollectedTurn & { endpoint: ModelEndpoint; attempts: Attempt[] }> {
    const turn = await this.open(modelId, request, options);
    return { ...(await collectTurn(turn.events)), endpoint: turn.endpoint, attempts: turn.attempts };
  }
}

/**
 * Starts one attempt and waits for its first event. The endpoint's timeout bounds the wait for the first
 * event and every gap between events, and aborts the provider through its signal. The first event is
 * also raced against the abort, so a provider that ignores its signal cannot stall fallback; after that,
 * providers are trusted to honour the signal (all built-in ones do), which keeps the per-event cost to a
 * clock read (one timer per turn, re-armed lazily, not one per event).
 */
async function startTurn(
  endpoint: ModelEndpoint,
  registry: ModelRegistry,
  request: TurnRequest,
  signal: AbortSignal | undefined,
): Promise<AsyncIterable<ModelEvent>> {
  const controller = new AbortController();
  const onCallerAbort = () => controller.abort(signal?.reason);
  signal?.addEventListener('abort', onCallerAbort, { once: true });
  const timeoutMs = endpoint.timeoutMs;
  let lastActivity = performance.now();
  const check = () => {
    const idle = performance.now() - lastActivity;
    if (idle >= timeoutMs) controller.abort(upstreamTimeout({ endpoint: endpoint.id }, timeoutMs));
    else timer = setTimeout(check, timeoutMs - idle);
  };
  let timer = setTimeout(check, timeoutMs);
  let finished = false;
  const cleanup = () => {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onCallerAbort);
    // A consumer that stops reading early must not leave the upstream request running.
    if (!finished && !controller.signal.aborted) {
      controller.abort(new DOMException('The turn was abandoned.', 'AbortError'));
    }
  };
  // Whatever a provider throws once aborted (an SDK's own AbortError, say), the abort's reason is the truth.
  const reason = (error: unknown): unknown => (controller.signal.aborted ? controller.signal.reason : error);

  const events = registry
    .provider(endpoint)
    .stream({ ...request, model: endpoint.model, signal: controller.signal });
  const iterator = events[Symbol.asyncIterator]();
  const aborted = new Promise<never>((_, reject) => {
    controller.signal.addEventListener('abort', () => reject(controller.signal.reason as Error), {
      once: true,
    });
  });
  aborted.catch(() => undefined);
  let first: IteratorResult<ModelEvent>;
  try {
    first = await Promise.race([iterator.next(), aborted]);
  } catch (error) {
    const cause = reason(error);
    cleanup();
    throw cause;
  }
  if (first.done) {
    cleanup();
    throw new UpstreamError(
      'upstream_error',
      `Model endpoint ${endpoint.id} ended its answer before it began.`,
      {
        retryable: true,
      },
    );
  }
  const firstEvent = first.value;
  return (async function* rest(): AsyncGenerator<ModelEvent> {
    try {
      let event = firstEvent;
      for (;;) {
        if (event.type === 'done') finished = true;
        yield event;
        if (finished) return;
        lastActivity = performance.now();
        let result: IteratorResult<ModelEvent>;
        try {
          result = await iterator.next();
        } catch (error) {
          throw reason(error);
        }
        if (result.done) {
          throw new UpstreamError(
            'upstream_error',
            `Model endpoint ${endpoint.id} ended its answer unfinished.`,
            {
              retryable: true,
            },
          );
        }
        // Guards against a provider that ends quietly when aborted instead of throwing.
        if (controller.signal.aborted) throw controller.signal.reason;
        lastActivity = performance.now();
        event = result.value;
      }
    } finally {
      cleanup();
      void iterator.return?.()?.catch(() => undefined);
    }
  })();
}
