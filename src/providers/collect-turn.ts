import { EnclaveError } from '../errors/index.js';
import type { ModelEvent, ModelUsage, StopReason } from './model-provider.js';

/** A whole model turn, gathered from its events (non-streaming callers, compaction, tests). */
export interface CollectedTurn {
  text: string;
  functionCalls: { callId: string; name: string; arguments: string }[];
  usage: ModelUsage;
  stopReason: StopReason;
  /** How many text deltas arrived: shows a stream really streamed. */
  deltas: number;
}

export async function collectTurn(events: AsyncIterable<ModelEvent>): Promise<CollectedTurn> {
  let text = '';
  let deltas = 0;
  const functionCalls: CollectedTurn['functionCalls'] = [];
  for await (const event of events) {
    if (event.type === 'text_delta') {
      text += event.text;
      deltas++;
    } else if (event.type === 'function_call') {
      functionCalls.push({ callId: event.callId, name: event.name, arguments: event.arguments });
    } else {
      return { text, functionCalls, usage: event.usage, stopReason: event.stopReason, deltas };
    }
  }
  throw new EnclaveError('upstream_error', 'The model stream ended without finishing its turn.');
}
