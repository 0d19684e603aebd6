import { describe, expect, it } from 'vitest';
import { EnclaveError } from '../errors/index.js';
import {
  isRetryable,
  parseRetryAfter,
  sanitizeUpstreamMessage,
  toUpstreamError,
  upstreamErrorFromStatus,
} from './provider-error.js';

const ctx = { endpoint: 'openai/m', secrets: ['my-very-secret-key'] };

describe('provider errors', () => {
  it.each([
    [429, 'rate_limited', true],
    [500, 'upstream_error', true],
    [502, 'upstream_error', true],
    [503, 'upstream_error', true],
    [504, 'upstream_timeout', true],
    [408, 'upstream_timeout', true],
    [400, 'invalid_request', false],
    [404, 'invalid_request', false],
    [422, 'invalid_request', false],
    [401, 'upstream_error', false],
    [403, 'upstream_error', false],
  ])('maps HTTP %i to %s (retryable: %s)', (status, code, retryable) => {
    const error = upstreamErrorFromStatus(status, 'upstream says no', ctx);
    expect(error).toBeInstanceOf(EnclaveError);
    expect(error.code).toBe(code);
    expect(isRetryable(error)).toBe(retryable);
  });

  it('sanitizes keys, bearer tokens, AWS key ids and credentialed URLs', () => {
    const message = sanitizeUpstreamMessage(
      'key my-very-secret-key, sk-proj-abcdefghijk, Authorization: Bearer abc.def, AKIAABCDEFGHIJKLMNOP, ' +
        'https://admin:hunter2@llm.internal:8000/v1?token=t0k&x=1 and api_key=zzz',
      ctx.secrets,
    );
    for (const leaked of [
      'my-very-secret-key',
      'sk-proj',
      'abc.def',
      'AKIAABCDEFGHIJKLMNOP',
      'hunter2',
      't0k',
      'zzz',
    ]) {
      expect(message).not.toContain(leaked);
    }
    expect(message).toContain('llm.internal:8000/v1');
    expect(sanitizeUpstreamMessage('x'.repeat(2000)).length).toBeLessThanOrEqual(501);
  });

  it('maps SDK-shaped errors: OpenAI status + headers, AWS names, timeouts, connection failures', () => {
    const openaiLike = Object.assign(new Error('slow'), {
      status: 429,
      headers: new Headers({ 'retry-after': '3' }),
    });
    expect(toUpstreamError(openaiLike, ctx)).toMatchObject({ code: 'rate_limited', retryAfterMs: 3000 });
    const aws = Object.assign(new Error('busy'), {
      name: 'ServiceUnavailableException',
      $metadata: { httpStatusCode: 503 },
    });
    expect(toUpstreamError(aws, ctx)).toMatchObject({ code: 'upstream_error', retryable: true });
    const awsTimeout = Object.assign(new Error('model slow'), { name: 'ModelTimeoutException' });
    expect(toUpstreamError(awsTimeout, ctx)).toMatchObject({ code: 'upstream_timeout', retryable: true });
    const timeout = Object.assign(new Error('t'), { name: 'APIConnectionTimeoutError' });
    expect(toUpstreamError(timeout, ctx)).toMatchObject({ code: 'upstream_timeout' });
    expect(toUpstreamError(new Error('ECONNREFUSED'), ctx)).toMatchObject({
      code: 'upstream_error',
      retryable: true,
    });
    const own = new EnclaveError('invalid_request', 'mine');
    expect(toUpstreamError(own, ctx)).toBe(own);
  });

  it('returns the abort reason untouched when the signal was aborted', () => {
    const controller = new AbortController();
    const reason = new Error('caller left');
    controller.abort(reason);
    expect(toUpstreamError(new Error('whatever'), ctx, controller.signal)).toBe(reason);
  });

  it('parses Retry-After in seconds and as a date', () => {
    expect(parseRetryAfter('2')).toBe(2000);
    expect(parseRetryAfter(new Date(10_000).toUTCString(), 4_000)).toBe(6000);
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter(null)).toBeUndefined();
  });
});
