import { EnclaveError, type ErrorCode } from '../errors/index.js';

/**
 * An upstream model failure, still an EnclaveError (same code table, same client shape) but carrying what
 * fallback needs: `retryable` is true for 429, 5xx, timeouts and broken connections, never for a 4xx,
 * because a request the upstream rejected would be rejected by the next endpoint too.
 */
export class UpstreamError extends EnclaveError {
  readonly retryable: boolean;
  /** The upstream's HTTP status when it answered at all. */
  readonly upstreamStatus: number | undefined;
  /** From a Retry-After header, when the upstream sent one. */
  readonly retryAfterMs: number | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    options: {
      retryable: boolean;
      status?: number | undefined;
      retryAfterMs?: number | undefined;
      cause?: unknown;
    },
  ) {
    super(code, message, { cause: options.cause });
    this.name = 'UpstreamError';
    this.retryable = options.retryable;
    this.upstreamStatus = options.status;
    this.retryAfterMs = options.retryAfterMs;
  }
}

export const isRetryable = (error: unknown): boolean => error instanceof UpstreamError && error.retryable;

export interface UpstreamContext {
  /** Endpoint id (`provider/model`), named in the message so an operator knows which upstream failed. */
  endpoint: string;
  /** Exact strings that must never reach a client (the endpoint's API key, say). */
  secrets?: readonly string[];
}

/** Keys, bearer tokens, AWS key ids and credentials embedded in URLs, whatever upstream echoes back. */
const secretPatterns: readonly RegExp[] = [
  /\b(sk|pk|rk)-[A-Za-z0-9_-]{8,}/g,
  /\b(AKIA|ASIA)[A-Z0-9]{12,}\b/g,
  /\bBearer\s+[A-Za-z0-9._~+/=-]+/gi,
  /\b(api[_-]?key|token|secret|password|signature|x-amz-[a-z-]+)=[^\s&"']+/gi,
];

/** Makes an upstream message safe to show a client: no secrets, no credentialed URLs, bounded length. */
export function sanitizeUpstreamMessage(message: string, secrets: readonly string[] = []): string {
  let text = message;
  for (const secret of secrets) if (secret.length >= 4) text = text.split(secret).join('[redacted]');
  // Credentials inside URLs (user:pass@host) and query strings go; the host stays, it helps operators.
  text = text.replace(/\b([a-z][a-z0-9+.-]*:\/\/)[^\s/@]*@/gi, '$1[redacted]@');
  text = text.replace(/(\b[a-z][a-z0-9+.-]*:\/\/[^\s?#"']+)\?[^\s#"']*/gi, '$1?[redacted]');
  for (const pattern of secretPatterns) text = text.replace(pattern, '[redacted]');
  text = text.replace(/\s+/g, ' ').trim();
  return text.length > 500 ? `${text.slice(0, 500)}…` : text;
}

/** Maps an upstream HTTP status to the error a client sees and whether fallback may try elsewhere. */
export function upstreamErrorFromStatus(
  status: number,
  upstreamMessage: string,
  context: UpstreamContext,
  extra: { retryAfterMs?: number | undefined; cause?: unknown } = {},
): UpstreamError {
  const detail = sanitizeUpstreamMessage(upstreamMessage, context.secrets);
  const said = detail ? `: ${detail}` : '.';
  const base = { status, retryAfterMs: extra.retryAfterMs, cause: extra.cause };
  if (status === 429) {
    return new UpstreamError('rate_limited', `Model endpoint ${context.endpoint} is rate limited${said}`, {
      ...base,
      retryable: true,
    });
  }
  if (status === 408 || status === 504) {
    return new UpstreamError('upstream_timeout', `Model endpoint ${context.endpoint} timed out${said}`, {
      ...base,
      retryable: true,
    });
  }
  if (status >= 500) {
    return new UpstreamError(
      'upstream_error',
      `Model endpoint ${context.endpoint} failed (${status})${said}`,
      {
        ...base,
        retryable: true,
      },
    );
  }
  if (status === 401 || status === 403) {
    // Enclave's own credentials were refused: the operator must fix the config, the client can do nothing.
    return new UpstreamError(
      'upstream_error',
      `Model endpoint ${context.endpoint} refused Enclave's credentials (${status}); check its configuration.`,
      { ...base, retryable: false },
    );
  }
  return new UpstreamError(
    'invalid_request',
    `Model endpoint ${context.endpoint} rejected the request${said}`,
    {
      ...base,
      retryable: false,
    },
  );
}

export function upstreamTimeout(context: UpstreamContext, afterMs?: number, cause?: unknown): UpstreamError {
  const within = afterMs === undefined ? 'in time' : `within ${afterMs} ms`;
  return new UpstreamError(
    'upstream_timeout',
    `Model endpoint ${context.endpoint} did not answer ${within}.`,
    {
      retryable: true,
      cause,
    },
  );
}

/** A connection that failed or dropped: nothing was rejected, so another endpoint may well succeed. */
export function upstreamUnreachable(context: UpstreamContext, cause: unknown): UpstreamError {
  const reason = cause instanceof Error ? sanitizeUpstreamMessage(cause.message, context.secrets) : '';
  return new UpstreamError(
    'upstream_error',
    `Model endpoint ${context.endpoint} could not be reached${reason ? `: ${reason}` : '.'}`,
    { retryable: true, cause },
  );
}

/** Parses Retry-After (seconds or an HTTP date) into milliseconds. */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

export const isAbortError = (error: unknown): boolean =>
  error instanceof Error && (error.name === 'AbortError' || error.name === 'TimeoutError');

/** AWS exception names (Bedrock) that carry their meaning in the name rather than a usable status. */
const awsStatusByName: Readonly<Record<string, number>> = {
  ThrottlingException: 429,
  ServiceQuotaExceededException: 429,
  ServiceUnavailableException: 503,
  InternalServerException: 500,
  ModelStreamErrorException: 502,
  ModelErrorException: 502,
  ModelNotReadyException: 503,
  ModelTimeoutException: 408,
  ValidationException: 400,
  ResourceNotFoundException: 404,
  AccessDeniedException: 403,
  UnrecognizedClientException: 403,
};

/**
 * Maps whatever an SDK threw to an UpstreamError. If the caller's signal was aborted (client gone or the
 * router's timer), the abort reason is returned untouched: the router, not the provider, knows which it was.
 */
export function toUpstreamError(error: unknown, context: UpstreamContext, signal?: AbortSignal): Error {
  if (signal?.aborted)
    return signal.reason instanceof Error ? signal.reason : new DOMException('aborted', 'AbortError');
  if (error instanceof EnclaveError) return error;
  if (isAbortError(error)) return upstreamTimeout(context, undefined, error);
  if (typeof error !== 'object' || error === null) return upstreamUnreachable(context, error);
  const e = error as {
    name?: unknown;
    message?: unknown;
    status?: unknown;
    headers?: unknown;
    $metadata?: unknown;
  };
  const name = typeof e.name === 'string' ? e.name : '';
  const message = typeof e.message === 'string' ? e.message : '';
  const metadata = e.$metadata as { httpStatusCode?: unknown } | undefined;
  const status =
    awsStatusByName[name] ??
    (typeof e.status === 'number' ? e.status : undefined) ??
    (typeof metadata?.httpStatusCode === 'number' ? metadata.httpStatusCode : undefined);
  if (name === 'APIConnectionTimeoutError') return upstreamTimeout(context, undefined, error);
  if (status === undefined || status < 400) return upstreamUnreachable(context, error);
  const headers = e.headers instanceof Headers ? e.headers : undefined;
  return upstreamErrorFromStatus(status, message, context, {
    retryAfterMs: parseRetryAfter(headers?.get('retry-after')),
    cause: error,
  });
}
