import {
  BedrockRuntimeClient,
  InvokeModelCommand,
  type BedrockRuntimeClientConfig,
} from '@aws-sdk/client-bedrock-runtime';
import { z } from 'zod';
import { UpstreamError, toUpstreamError } from '../provider-error.js';

export interface BedrockEmbedderOptions {
  /** Default `amazon.titan-embed-text-v2:0`. */
  model?: string | undefined;
  /** Titan v2 output sizes: 1024 (default), 512 or 256. */
  dimensions?: 256 | 512 | 1024 | undefined;
  /** Defaults to AWS_REGION through the SDK's own resolution. */
  region?: string | undefined;
  /** A VPC endpoint or a test server; absent means the regional Bedrock endpoint. */
  endpoint?: string | undefined;
  /** Only for tests and unusual set-ups; normally the standard AWS credential chain is used. */
  credentials?: BedrockRuntimeClientConfig['credentials'];
  /** Texts embedded at once (Titan takes one text per InvokeModel call). */
  concurrency?: number | undefined;
  timeoutMs?: number | undefined;
}

/** Titan Text Embeddings v2's answer (InvokeModel body). */
const titanAnswer = z.object({
  embedding: z.array(z.number()).min(1),
  inputTextTokenCount: z.number().int().nonnegative().optional(),
});

/** Titan v2 takes at most 8192 tokens (about 50,000 characters); memory texts are far shorter. */
const MAX_CHARS = 50_000;

/**
 * Text embeddings from Amazon Bedrock (Titan Text Embeddings v2 through InvokeModel), for memory's hybrid
 * recall: the same shape as the OpenAI-compatible embedder (src/memory/embedder.ts). Vectors are asked
 * normalised, so cosine similarity is their dot product. Titan embeds one text per call: a batch is sent as
 * parallel calls, `concurrency` at a time, answers kept in input order.
 */
export function bedrockEmbedder(options: BedrockEmbedderOptions = {}) {
  const model = options.model ?? 'amazon.titan-embed-text-v2:0';
  const dimensions = options.dimensions ?? 1024;
  const config: BedrockRuntimeClientConfig = { maxAttempts: 2 };
  if (options.region !== undefined) config.region = options.region;
  if (options.endpoint !== undefined) config.endpoint = options.endpoint;
  if (options.credentials !== undefined) config.credentials = options.credentials;
  const client = new BedrockRuntimeClient(config);
  const context = { endpoint: `bedrock/${model}` };
  const decoder = new TextDecoder();

  async function embedOne(text: string): Promise<Float32Array> {
    const signal = AbortSignal.timeout(options.timeoutMs ?? 30_000);
    let body: Uint8Array;
    try {
      const answer = await client.send(
        new InvokeModelCommand({
          modelId: model,
          contentType: 'application/json',
          accept: 'application/json',
          body: JSON.stringify({ inputText: text.slice(0, MAX_CHARS), dimensions, normalize: true }),
        }),
        { abortSignal: signal },
      );
      body = answer.body;
    } catch (error) {
      throw toUpstreamError(error, context, signal);
    }
    let json: unknown;
    try {
      json = JSON.parse(decoder.decode(body));
    } catch {
      json = undefined;
    }
    const parsed = titanAnswer.safeParse(json);
    if (!parsed.success)
      throw new UpstreamError(
        'upstream_error',
        `Embeddings endpoint ${context.endpoint} answered in an unexpected shape.`,
        { retryable: false },
      );
    return Float32Array.from(parsed.data.embedding);
  }

  return {
    model,
    async embed(texts: readonly string[]): Promise<Float32Array[]> {
      const out = new Array<Float32Array>(texts.length);
      const width = Math.max(1, options.concurrency ?? 4);
      let next = 0;
      const lane = async () => {
        for (let i = next++; i < texts.length; i = next++) out[i] = await embedOne(texts[i] ?? '');
      };
      await Promise.all(Array.from({ length: Math.min(width, texts.length) }, lane));
      return out;
    },
  };
}
