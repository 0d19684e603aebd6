import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMockOpenAI, type MockOpenAI } from '../../test/support/mock-openai.js';
import { collectTurn } from './collect-turn.js';
import type { ModelItem } from './model-provider.js';
import { ModelRouter } from './model-router.js';
import { resolveModels, type ModelsConfig } from './models-config.js';
import { UpstreamError } from './provider-error.js';
import { ModelRegistry, providerFactories } from './registry.js';

/** Two independent OpenAI-compatible upstreams, so each one's request count is known exactly. */
let primary: MockOpenAI;
let secondary: MockOpenAI;
beforeAll(async () => {
  [primary, secondary] = await Promise.all([startMockOpenAI(), startMockOpenAI()]);
});
afterAll(async () => {
  await Promise.all([primary.close(), secondary.close()]);
});

const input: { items: ModelItem[] } = { items: [{ type: 'message', role: 'user', text: 'hi' }] };

function setup(overrides: { retries?: number; timeoutMs?: number } = {}) {
  for (const mock of [primary, secondary]) {
    mock.received.length = 0;
    mock.options = {};
  }
  const section: ModelsConfig = {
    defaults: {
      retries: overrides.retries ?? 0,
      backoffMs: 100,
      maxBackoffMs: 1000,
      timeoutMs: overrides.timeoutMs ?? 5000,
    },
    endpoints: [
      {
        id: 'openai/a',
        baseUrl: primary.url,
        fallback: ['openai/b', 'local/echo'],
        accreditation: { label: 'SECRET', compartments: ['X'] },
      },
      { id: 'openai/b', baseUrl: secondary.url, fallback: [] },
    ],
  };
  const env = { OPENAI_API_KEY: 'sk-router-test-key' };
  const registry = new ModelRegistry(
    resolveModels(section, env, Object.keys(providerFactories)),
    providerFactories,
    env,
  );
  const sleeps: number[] = [];
  const router = new ModelRouter(registry, {
    random: () => 0.5,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
  });
  return { router, sleeps };
}

describe('ModelRouter', () => {
  it('answers from the first endpoint and says which one answered', async () => {
    const { router } = setup();
    const turn = await router.open('openai/a', input);
    expect(turn.endpoint.id).toBe('openai/a');
    expect((await collectTurn(turn.events)).text).toBe('[mock] hi');
    expect(primary.chatRequests()[0]?.model).toBe('a');
    expect(secondary.received).toHaveLength(0);
  });

  it('falls back to the next endpoint when the first answers 503', async () => {
    const { router } = setup();
    primary.queue({ kind: 'error', status: 503 });
    const turn = await router.complete('openai/a', input);
    expect(turn.endpoint.id).toBe('openai/b');
    expect(turn.text).toBe('[mock] hi');
    expect(turn.attempts).toEqual([
      { endpoint: 'openai/a', outcome: 'failed', reason: 'upstream_error' },
      { endpoint: 'openai/b', outcome: 'answered' },
    ]);
    expect(primary.received).toHaveLength(1);
    expect(secondary.chatRequests()[0]?.model).toBe('b');
  });

  it('never retries or falls back on a 400', async () => {
    const { router } = setup({ retries: 2 });
    primary.queue({ kind: 'error', status: 400, message: 'bad input' });
    await expect(router.open('openai/a', input)).rejects.toMatchObject({
      code: 'invalid_request',
      status: 400,
    });
    expect(primary.received).toHaveLength(1);
    expect(secondary.received).toHaveLength(0);
  });

  it('retries a 429 on the same endpoint with jittered, growing backoff, honouring Retry-After', async () => {
    const { router, sleeps } = setup({ retries: 2 });
    primary.queue({ kind: 'error', status: 429 });
    primary.queue({ kind: 'error', status: 429, headers: { 'retry-after': '0.7' } });
    const turn = await router.complete('openai/a', input);
    expect(turn.endpoint.id).toBe('openai/a');
    expect(primary.received).toHaveLength(3);
    // random 0.5 → 75% of the step: 100 ms step → 75; then 200 ms step → 150, raised to Retry-After's 700.
    expect(sleeps).toEqual([75, 700]);
  });

  it('moves on when an endpoint times out before its first event', async () => {
    const { router } = setup({ timeoutMs: 200 });
    primary.queue({ kind: 'hang' });
    const turn = await router.complete('openai/a', input);
    expect(turn.endpoint.id).toBe('openai/b');
    expect(turn.attempts[0]).toEqual({ endpoint: 'openai/a', outcome: 'failed', reason: 'upstream_timeout' });
    await expect.poll(() => primary.received[0]?.closedEarly).toBe(true);
  });

  it('never contacts an endpoint the isAllowed check refuses', async () => {
    const { router } = setup();
    const checked: string[] = [];
    const turn = await router.complete('openai/a', input, {
      isAllowed: (endpoint) => {
        checked.push(`${endpoint.id}:${endpoint.accreditation?.label ?? '-'}`);
        return endpoint.id === 'openai/a' ? 'endpoint is accredited only up to SECRET' : true;
      },
    });
    expect(checked[0]).toBe('openai/a:SECRET');
    expect(turn.endpoint.id).toBe('openai/b');
    expect(primary.received).toHaveLength(0);
    expect(turn.attempts[0]).toEqual({
      endpoint: 'openai/a',
      outcome: 'refused',
      reason: 'endpoint is accredited only up to SECRET',
    });
  });

  it('refuses with not_accredited when every endpoint is refused', async () => {
    const { router } = setup();
    const refused = router.open('openai/a', input, { isAllowed: () => false });
    await expect(refused).rejects.toMatchObject({ code: 'not_accredited', status: 403 });
    await expect(refused).rejects.toThrow(
      /openai\/a: not allowed; openai\/b: not allowed; local\/echo: not allowed/,
    );
    expect(primary.received.length + secondary.received.length).toBe(0);
  });

  it('falls back through the whole chain and gives the last error when all fail', async () => {
    const { router } = setup();
    primary.queue({ kind: 'error', status: 503 });
    secondary.queue({ kind: 'error', status: 502 });
    const turn = await router.complete('openai/a', input);
    expect(turn.endpoint.id).toBe('local/echo');
    expect(turn.text).toContain('not a language model');
    secondary.queue({ kind: 'error', status: 500 });
    await expect(router.open('openai/b', input)).rejects.toBeInstanceOf(UpstreamError);
  });

  it('does not fall back when the caller aborts', async () => {
    const { router } = setup({ timeoutMs: 10_000 });
    primary.queue({ kind: 'hang' });
    const controller = new AbortController();
    const turn = router.open('openai/a', input, { signal: controller.signal });
    await expect.poll(() => primary.received.length).toBe(1);
    controller.abort(new Error('client disconnected'));
    await expect(turn).rejects.toThrow('client disconnected');
    expect(secondary.received).toHaveLength(0);
  });

  it('times out between events after the first one, without falling back', async () => {
    const { router } = setup({ timeoutMs: 200 });
    primary.queue({ kind: 'text', text: 'a b', chunks: ['a ', 'b'] });
    primary.options.chunkDelayMs = 1_000;
    const turn = await router.open('openai/a', input);
    await expect(collectTurn(turn.events)).rejects.toMatchObject({ code: 'upstream_timeout' });
    expect(secondary.received).toHaveLength(0);
  });

  it('aborts the upstream request when the consumer stops reading', async () => {
    const { router } = setup();
    primary.queue({ kind: 'text', text: 'a b c', chunks: ['a ', 'b ', 'c'] });
    primary.options.chunkDelayMs = 300;
    const turn = await router.open('openai/a', input);
    for await (const event of turn.events) {
      expect(event.type).toBe('text_delta');
      break;
    }
    await expect.poll(() => primary.received[0]?.closedEarly).toBe(true);
  });

  it('lists models, filtered by an isAllowed check, and 404s unknown ones', () => {
    const { router } = setup();
    expect(router.listModels().map((m) => m.id)).toEqual(['local/echo', 'openai/a', 'openai/b']);
    expect(router.listModels((e) => e.provider === 'local').map((m) => m.id)).toEqual(['local/echo']);
    expect(() => router.resolve('openai/zzz')).toThrow(
      expect.objectContaining({ code: 'not_found', param: 'model' }),
    );
  });
});
