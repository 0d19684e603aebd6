import { createRequire } from 'node:module';
import { Tiktoken, type TiktokenBPE } from 'js-tiktoken/lite';
import type { ModelItem, ModelRequest } from './model-provider.js';

/**
 * Token counting with the BPE ranks shipped inside js-tiktoken (nothing is downloaded). Used for `usage`
 * when a provider reports none, and for fitting a conversation into a model's context window. For models
 * that are not OpenAI's the count is an estimate in the same ballpark, which is what fitting needs.
 */
export type EncodingName = 'o200k_base' | 'cl100k_base';

const require = createRequire(import.meta.url);
const encoders = new Map<EncodingName, Tiktoken>();

/** Loading a rank table takes ~0.5 s and tens of MB, so each is loaded on first use only. */
function encoder(name: EncodingName): Tiktoken {
  let found = encoders.get(name);
  if (!found) {
    const ranks = require(`js-tiktoken/ranks/${name}`) as TiktokenBPE | { default: TiktokenBPE };
    found = new Tiktoken('default' in ranks ? ranks.default : ranks);
    encoders.set(name, found);
  }
  return found;
}

/** gpt-4 / gpt-3.5 / older embeddings use cl100k; gpt-4o, gpt-4.1, o-series and everything else o200k. */
export function encodingForModel(model: string | undefined): EncodingName {
  if (model && /(^|\/)(gpt-4(?!o|\.1|\.5)|gpt-3\.5|text-embedding-(ada|3))/.test(model)) return 'cl100k_base';
  return 'o200k_base';
}

// Special-token text (e.g. "<|endoftext|>") in user input is counted as plain text, never refused.
const encode = (text: string, model?: string): number[] =>
  encoder(encodingForModel(model)).encode(text, [], []);

export function countTokens(text: string, model?: string): number {
  return text.length === 0 ? 0 : encode(text, model).length;
}

/** OpenAI's chat accounting: each message costs its text plus about 3 tokens of framing. */
const perItemOverhead = 3;
/** Every reply is primed with about 3 tokens. */
const replyPriming = 3;

export function countItemTokens(item: ModelItem, model?: string): number {
  switch (item.type) {
    case 'message':
      return perItemOverhead + countTokens(item.text, model);
    case 'function_call':
      return perItemOverhead + countTokens(item.name, model) + countTokens(item.arguments, model);
    case 'function_call_output':
      return perItemOverhead + countTokens(item.output, model);
  }
}

/** Input tokens of a whole request: instructions, items and tool definitions. */
export function countRequestTokens(
  request: Pick<ModelRequest, 'model' | 'instructions' | 'items' | 'tools'>,
): number {
  let total = replyPriming;
  if (request.instructions) total += perItemOverhead + countTokens(request.instructions, request.model);
  for (const item of request.items) total += countItemTokens(item, request.model);
  for (const tool of request.tools ?? []) {
    total += countTokens(
      `${tool.name} ${tool.description ?? ''} ${JSON.stringify(tool.parameters)}`,
      request.model,
    );
  }
  return total;
}

/** The longest prefix of `text` that fits in `maxTokens` tokens (for `max_output_tokens`). */
export function truncateToTokens(
  text: string,
  maxTokens: number,
  model?: string,
): { text: string; truncated: boolean } {
  const tokens = encode(text, model);
  if (tokens.length <= maxTokens) return { text, truncated: false };
  const enc = encoder(encodingForModel(model));
  let prefix = enc.decode(tokens.slice(0, Math.max(0, maxTokens)));
  // A cut inside a multi-byte character decodes to U+FFFD; drop the broken tail rather than emit it.
  prefix = prefix.replace(/\uFFFD+$/, '');
  return { text: prefix, truncated: true };
}
