import { z } from 'zod';
import { EnclaveError } from '../../errors/index.js';
import { isCategory } from '../taxonomy.js';
import type { Judge, JudgeResult } from './judge.js';
import { parseJudgeReply } from './llama-guard.js';

/** The `safety.judge` config section: any OpenAI-compatible chat endpoint (vLLM serving Llama Guard, Ollama, …). */
export const judgeConfigSchema = z.object({
  baseUrl: z.string().url(),
  model: z.string().min(1),
  apiKey: z.string().min(1).optional(),
  timeoutMs: z.number().int().positive().max(120_000).default(5_000),
  /** Uncertain band of the in-process score in which the judge is asked. */
  band: z.tuple([z.number().min(0).max(1), z.number().min(0).max(1)]).default([0.3, 0.7]),
  /** Optional system prompt for generic models; Llama Guard needs none (its chat template carries the policy). */
  systemPrompt: z.string().optional(),
});
export type JudgeConfig = z.infer<typeof judgeConfigSchema>;

const completionSchema = z.object({
  choices: z.array(z.object({ message: z.object({ content: z.string().nullable() }) })).min(1),
});

/** Calls `POST {baseUrl}/chat/completions` with the text as the user turn and parses the verdict. */
export function createHttpJudge(config: JudgeConfig, fetchImpl: typeof fetch = fetch): Judge {
  const url = config.baseUrl.replace(/\/+$/, '') + '/chat/completions';
  return {
    async judge(text): Promise<JudgeResult> {
      const messages = [
        ...(config.systemPrompt ? [{ role: 'system', content: config.systemPrompt }] : []),
        { role: 'user', content: text },
      ];
      let response: Response;
      try {
        response = await fetchImpl(url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            ...(config.apiKey ? { authorization: `Bearer ${config.apiKey}` } : {}),
          },
          body: JSON.stringify({ model: config.model, messages, temperature: 0, max_tokens: 32 }),
          signal: AbortSignal.timeout(config.timeoutMs),
        });
      } catch (cause) {
        const timedOut = cause instanceof Error && cause.name === 'TimeoutError';
        throw new EnclaveError(
          timedOut ? 'upstream_timeout' : 'upstream_error',
          `The safety judge at ${url} did not answer${timedOut ? ' in time' : ''}.`,
          { cause },
        );
      }
      if (!response.ok)
        throw new EnclaveError(
          'upstream_error',
          `The safety judge at ${url} answered HTTP ${response.status}.`,
        );
      const parsed = completionSchema.safeParse(await response.json().catch(() => undefined));
      const content = parsed.success ? (parsed.data.choices[0]?.message.content ?? '') : '';
      const result = parseJudgeReply(content);
      if (!result)
        throw new EnclaveError(
          'upstream_error',
          `The safety judge at ${url} gave a reply that is neither Llama Guard's format nor the JSON verdict.`,
        );
      return { ...result, categories: result.categories.filter(isCategory) };
    },
  };
}
