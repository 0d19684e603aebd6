import { z } from 'zod';
import { EnclaveError } from '../errors/index.js';

/** Text → vectors. Optional: without one, recall is BM25 with recency/validity weighting alone. */
export interface Embedder {
  readonly model: string;
  embed(texts: readonly string[]): Promise<Float32Array[]>;
  /**
   * Whether texts of all these labels (catalogue ids) may be sent to the embeddings endpoint, which is a
   * remote service like a model endpoint (its accreditation). Absent = any label (a local embedder).
   */
  admits?(labelIds: readonly string[]): Promise<boolean>;
}

/** An embedder's accreditation check (embedders without one admit every label). */
export const admitted = async (embedder: Embedder, labelIds: readonly string[]): Promise<boolean> =>
  !embedder.admits || embedder.admits(labelIds);

const embeddingsAnswer = z.object({
  data: z.array(z.object({ index: z.number().int().nonnegative(), embedding: z.array(z.number()) })),
});

export interface OpenAiEmbedderOptions {
  /** e.g. http://127.0.0.1:11434/v1 (Ollama, vLLM, llama.cpp, OpenAI). */
  baseUrl: string;
  model: string;
  apiKey?: string | undefined;
  fetch?: typeof fetch;
  timeoutMs?: number;
}

/** Any OpenAI-compatible `POST /v1/embeddings` endpoint. */
export function openAiEmbedder(options: OpenAiEmbedderOptions): Embedder {
  const doFetch = options.fetch ?? fetch;
  return {
    model: options.model,
    async embed(texts) {
      if (texts.length === 0) return [];
      let response: Response;
      try {
        response = await doFetch(`${options.baseUrl.replace(/\/$/u, '')}/embeddings`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            ...(options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {}),
          },
          body: JSON.stringify({ model: options.model, input: texts, encoding_format: 'float' }),
          signal: AbortSignal.timeout(options.timeoutMs ?? 30_000),
        });
      } catch (cause) {
        throw new EnclaveError('upstream_timeout', 'The embeddings endpoint did not answer.', { cause });
      }
      if (!response.ok) {
        throw new EnclaveError('upstream_error', `The embeddings endpoint answered HTTP ${response.status}.`);
      }
      const parsed = embeddingsAnswer.safeParse(await response.json().catch(() => undefined));
      if (!parsed.success || parsed.data.data.length !== texts.length) {
        throw new EnclaveError('upstream_error', 'The embeddings endpoint answered in an unexpected shape.');
      }
      const out: Float32Array[] = new Array<Float32Array>(texts.length);
      for (const item of parsed.data.data) out[item.index] = Float32Array.from(item.embedding);
      return out;
    },
  };
}

export function cosine(a: Float32Array, b: Float32Array): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a[i] ?? 0;
    const y = b[i] ?? 0;
    dot += x * y;
    na += x * x;
    nb += y * y;
  }
  return na && nb ? dot / Math.sqrt(na * nb) : 0;
}
