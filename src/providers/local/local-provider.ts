import { setImmediate as nextTick } from 'node:timers/promises';
import type { ModelEvent, ModelProvider, ModelRequest, StopReason } from '../model-provider.js';
import { countRequestTokens, countTokens, truncateToTokens } from '../tokens.js';
import { planLocalReply } from './local-rules.js';

/**
 * The built-in offline model (`local/<name>`): no key, no network, deterministic. It is not a language
 * model and says so in every text it produces; it exists so every feature (text, streaming, function calls,
 * max_output_tokens) can be demonstrated and tested offline. Its rules live in local-rules.ts.
 */
export class LocalProvider implements ModelProvider {
  readonly name = 'local';

  async *stream(request: ModelRequest): AsyncIterable<ModelEvent> {
    const signal = request.signal;
    signal?.throwIfAborted();
    const inputTokens = countRequestTokens(request);
    const plan = planLocalReply(request);

    if (plan.kind === 'calls') {
      let outputTokens = 0;
      for (const call of plan.calls) {
        await nextTick(undefined, { signal });
        outputTokens += countTokens(call.name) + countTokens(call.arguments);
        yield { type: 'function_call', ...call };
      }
      yield { type: 'done', usage: { inputTokens, outputTokens }, stopReason: 'tool_calls' };
      return;
    }

    let text = plan.text;
    let stopReason: StopReason = 'stop';
    if (request.maxOutputTokens !== undefined) {
      const cut = truncateToTokens(text, request.maxOutputTokens);
      text = cut.text;
      if (cut.truncated) stopReason = 'length';
    }
    // One delta per word (with its trailing space), each on its own tick, like a real token stream.
    for (const piece of text.match(/\S+\s*|\s+/g) ?? []) {
      await nextTick(undefined, { signal });
      yield { type: 'text_delta', text: piece };
    }
    yield { type: 'done', usage: { inputTokens, outputTokens: countTokens(text) }, stopReason };
  }
}
