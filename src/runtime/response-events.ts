/**
 * OpenAI's Responses streaming events, numbered in order (`sequence_number`). The turn yields these; the
 * API writes each as one SSE frame. Only the event vocabulary lives here, no I/O.
 */
export interface StreamEvent {
  type: string;
  sequence_number: number;
  [key: string]: unknown;
}

export class EventSequence {
  private next = 0;

  event(type: string, fields: Record<string, unknown>): StreamEvent {
    return { type, sequence_number: this.next++, ...fields };
  }

  responseState(
    type:
      | 'response.created'
      | 'response.in_progress'
      | 'response.completed'
      | 'response.incomplete'
      | 'response.failed',
    response: Record<string, unknown>,
  ): StreamEvent {
    return this.event(type, { response });
  }

  itemAdded(outputIndex: number, item: Record<string, unknown>): StreamEvent {
    return this.event('response.output_item.added', { output_index: outputIndex, item });
  }

  itemDone(outputIndex: number, item: Record<string, unknown>): StreamEvent {
    return this.event('response.output_item.done', { output_index: outputIndex, item });
  }

  partAdded(itemId: string, outputIndex: number): StreamEvent {
    return this.event('response.content_part.added', {
      item_id: itemId,
      output_index: outputIndex,
      content_index: 0,
      part: { type: 'output_text', text: '', annotations: [], logprobs: [] },
    });
  }

  textDelta(itemId: string, outputIndex: number, delta: string): StreamEvent {
    return this.event('response.output_text.delta', {
      item_id: itemId,
      output_index: outputIndex,
      content_index: 0,
      delta,
      logprobs: [],
    });
  }

  textDone(itemId: string, outputIndex: number, text: string): StreamEvent {
    return this.event('response.output_text.done', {
      item_id: itemId,
      output_index: outputIndex,
      content_index: 0,
      text,
      logprobs: [],
    });
  }

  partDone(itemId: string, outputIndex: number, text: string): StreamEvent {
    return this.event('response.content_part.done', {
      item_id: itemId,
      output_index: outputIndex,
      content_index: 0,
      part: { type: 'output_text', text, annotations: [], logprobs: [] },
    });
  }

  argumentsDelta(itemId: string, outputIndex: number, delta: string): StreamEvent {
    return this.event('response.function_call_arguments.delta', {
      item_id: itemId,
      output_index: outputIndex,
      delta,
    });
  }

  argumentsDone(itemId: string, outputIndex: number, name: string, args: string): StreamEvent {
    return this.event('response.function_call_arguments.done', {
      item_id: itemId,
      output_index: outputIndex,
      name,
      arguments: args,
    });
  }
}
