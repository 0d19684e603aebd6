import { z } from 'zod';
import { accreditationSchema } from '../providers/models-config.js';

/**
 * `memory.embeddings`: the embeddings endpoint hybrid recall fuses with BM25 (absent: BM25 alone). It is a
 * remote service like a model endpoint, so it carries an `accreditation` in the models section's shape
 * (absent: UNCLASSIFIED only): a record's text is embedded only if the endpoint is accredited for its label,
 * and a query only if it is accredited for every label the reader may see (else that recall is BM25 alone).
 */
export const embeddingsConfigSchema = z.discriminatedUnion('provider', [
  z
    .object({
      /** Any OpenAI-compatible `POST /v1/embeddings` (OpenAI, Ollama, vLLM, llama.cpp). */
      provider: z.literal('openai'),
      baseUrl: z.string().url(),
      model: z.string().min(1),
      /** The environment variable holding the API key (default OPENAI_API_KEY); never the key itself. */
      apiKeyEnv: z.string().min(1).optional(),
      accreditation: accreditationSchema.optional(),
    })
    .strict(),
  z
    .object({
      /** Amazon Bedrock, Titan Text Embeddings v2 through InvokeModel (standard AWS credential chain). */
      provider: z.literal('bedrock'),
      model: z.string().min(1).default('amazon.titan-embed-text-v2:0'),
      dimensions: z.union([z.literal(256), z.literal(512), z.literal(1024)]).default(1024),
      /** Default: AWS_REGION. */
      region: z.string().min(1).optional(),
      /** A VPC endpoint (or a test server); absent: the regional Bedrock endpoint. */
      endpoint: z.string().url().optional(),
      accreditation: accreditationSchema.optional(),
    })
    .strict(),
]);

export type EmbeddingsConfig = z.output<typeof embeddingsConfigSchema>;
