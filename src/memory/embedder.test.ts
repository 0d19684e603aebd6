import { describe, expect, it } from 'vitest';
import { cosine, openAiEmbedder } from './embedder.js';

describe('OpenAI-compatible embedder', () => {
  it('posts the texts and orders vectors by index', async () => {
    let body: unknown;
    const fetchStub = (async (_url: unknown, init?: RequestInit) => {
      body = JSON.parse(String(init?.body));
      return new Response(
        JSON.stringify({
          data: [
            { index: 1, embedding: [0, 1] },
            { index: 0, embedding: [1, 0] },
          ],
        }),
      );
    }) as typeof fetch;
    const e = openAiEmbedder({ baseUrl: 'http://127.0.0.1:1/v1/', model: 'm', fetch: fetchStub });
    const [a, b] = await e.embed(['x', 'y']);
    expect(body).toMatchObject({ model: 'm', input: ['x', 'y'] });
    expect([...(a ?? [])]).toEqual([1, 0]);
    expect(cosine(a ?? new Float32Array(), b ?? new Float32Array())).toBe(0);
  });

  it('rejects an answer of the wrong shape', async () => {
    const fetchStub = (async () => new Response('{"data":[]}')) as typeof fetch;
    await expect(
      openAiEmbedder({ baseUrl: 'http://x/v1', model: 'm', fetch: fetchStub }).embed(['x']),
    ).rejects.toThrow(/unexpected shape/u);
  });
});
