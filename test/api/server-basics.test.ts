import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allRoutes } from '../../src/api/routes/index.js';
import { startTestServer, type TestServer } from '../support/server.js';

describe('server basics', () => {
  let server: TestServer;
  let key: string;
  beforeAll(async () => {
    server = await startTestServer({ env: { ENCLAVE_BODY_LIMIT: '1024' } });
    key = await server.key({ role: 'admin' });
  });
  afterAll(async () => server.close());

  const post = (url: string, body: string, headers: Record<string, string> = {}) =>
    fetch(server.baseUrl + url, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...headers },
      body,
    });

  it('answers /healthz without credentials', async () => {
    const response = await fetch(server.baseUrl + '/healthz');
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok' });
  });

  it('gives every response a request id, and keeps a well-formed one it was given', async () => {
    const fresh = await fetch(server.baseUrl + '/healthz');
    expect(fresh.headers.get('x-request-id')).toMatch(/^req_[0-9a-f]{16}$/);
    const given = await fetch(server.baseUrl + '/healthz', { headers: { 'x-request-id': 'trace-42' } });
    expect(given.headers.get('x-request-id')).toBe('trace-42');
    const bad = await fetch(server.baseUrl + '/healthz', {
      headers: { 'x-request-id': 'bad id with spaces and / slashes' },
    });
    expect(bad.headers.get('x-request-id')).toMatch(/^req_/);
  });

  it('serves an OpenAPI document generated from the route table', async () => {
    const response = await fetch(server.baseUrl + '/openapi.json', {
      headers: { authorization: `Bearer ${key}` },
    });
    const doc = (await response.json()) as { openapi: string; paths: Record<string, unknown> };
    expect(doc.openapi).toBe('3.0.3');
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/healthz', '/v1/me', '/metrics']));
    // Every route of the table, with its method, path parameters in OpenAPI's `{id}` form.
    const documented = Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(
      ([path, methods]) => Object.keys(methods).map((m) => `${m.toUpperCase()} ${path}`),
    );
    const routes = allRoutes.map((r) => `${r.method} ${r.url.replace(/:([A-Za-z_]+)/g, '{$1}')}`);
    expect(routes.length).toBeGreaterThan(30);
    expect(documented.sort()).toEqual([...new Set(routes)].sort());
  });

  it('serves Prometheus metrics including request counts', async () => {
    await fetch(server.baseUrl + '/healthz');
    const text = await (
      await fetch(server.baseUrl + '/metrics', { headers: { authorization: `Bearer ${key}` } })
    ).text();
    expect(text).toContain('enclave_http_requests_total{method="GET",route="/healthz",status="200"}');
  });

  it('answers unknown routes with a 404 in OpenAI error shape', async () => {
    const response = await fetch(server.baseUrl + '/v1/nope', {
      headers: { authorization: `Bearer ${key}` },
    });
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({
      error: { type: 'invalid_request_error', code: 'not_found', param: null },
    });
  });

  it('answers an oversized body with 413, malformed JSON and wrong types with 400, in OpenAI error shape', async () => {
    const user = await server.key();
    const send = (body: string) => post('/v1/responses', body, { authorization: `Bearer ${user}` });
    const cases: [Response, number, string][] = [
      // ENCLAVE_BODY_LIMIT is 1024 for this server: the limit is configurable.
      [
        await send(JSON.stringify({ model: 'local/echo', input: 'y'.repeat(2000) })),
        413,
        'payload_too_large',
      ],
      [await send('{"model": "local/echo", "input": '), 400, 'invalid_json'],
      [await send(JSON.stringify({ model: 42, input: 'hi' })), 400, 'invalid_request'],
      [await send(JSON.stringify({ model: 'local/echo', input: 'hi', temperature: 'hot' })), 400, ''],
      [await send(JSON.stringify({ model: 'local/echo', input: 'hi', max_output_tokens: -1 })), 400, ''],
      [await send('[]'), 400, ''],
    ];
    for (const [response, status, code] of cases) {
      expect(response.status).toBe(status);
      const body = (await response.json()) as { error: Record<string, unknown> };
      expect(body.error).toMatchObject({ type: 'invalid_request_error', message: expect.any(String) });
      expect(Object.keys(body.error).sort()).toEqual(['code', 'message', 'param', 'type']);
      if (code) expect(body.error.code).toBe(code);
      expect(String(body.error.message)).not.toMatch(/at .*\.js|SELECT|node_modules/);
    }
  });

  it('refuses malformed JSON, oversized bodies and non-JSON bodies with 4xx, never 5xx', async () => {
    const malformed = await post('/v1/me', '{"a":');
    expect(malformed.status).toBeGreaterThanOrEqual(400);
    expect(malformed.status).toBeLessThan(500);
    const huge = await post('/v1/me', JSON.stringify({ x: 'y'.repeat(5000) }));
    expect([404, 413]).toContain(huge.status);
    const text = await post('/v1/me', 'hello', { 'content-type': 'text/plain' });
    expect(text.status).toBeLessThan(500);
    for (const response of [malformed, huge, text]) {
      const body = (await response.json()) as { error: { message: string } };
      expect(body.error.message).not.toMatch(/at .*\.js|SELECT|node_modules/);
    }
  });
});
