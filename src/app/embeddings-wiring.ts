import { parseCanonicalLabel } from '../labels/index.js';
import { openAiEmbedder, type Embedder } from '../memory/index.js';
import type { EmbeddingsConfig } from '../memory/embeddings-config.js';
import { bedrockEmbedder } from '../providers/bedrock/embeddings.js';
import { admits } from '../runtime/accreditation.js';
import type { LabelRepo } from '../store/repos/label-repo.js';

/**
 * The embeddings endpoint memory's hybrid recall uses (`memory.embeddings`), with its accreditation check:
 * texts reach it only for labels it is accredited for (the same rule as model endpoints; none configured =
 * UNCLASSIFIED only). An unknown label id admits nothing (fail closed).
 */
export function embedderFor(
  config: EmbeddingsConfig | undefined,
  labels: Pick<LabelRepo, 'byId'>,
  env: NodeJS.ProcessEnv = process.env,
): Embedder | undefined {
  if (!config) return undefined;
  const inner =
    config.provider === 'openai'
      ? openAiEmbedder({
          baseUrl: config.baseUrl,
          model: config.model,
          apiKey: env[config.apiKeyEnv ?? 'OPENAI_API_KEY'] || undefined,
        })
      : bedrockEmbedder({
          model: config.model,
          dimensions: config.dimensions,
          region: config.region ?? env.AWS_REGION,
          endpoint: config.endpoint,
        });
  const target = { provider: config.provider, accreditation: config.accreditation };
  const verdicts = new Map<string, boolean>();
  return {
    model: inner.model,
    embed: (texts) => inner.embed(texts),
    async admits(labelIds) {
      for (const id of new Set(labelIds)) {
        let ok = verdicts.get(id);
        if (ok === undefined) {
          const entry = await labels.byId(id);
          ok = entry !== undefined && admits(target, parseCanonicalLabel(entry.canonical)) === true;
          verdicts.set(id, ok);
        }
        if (!ok) return false;
      }
      return true;
    },
  };
}
