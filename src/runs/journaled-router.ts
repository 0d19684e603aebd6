import {
  ModelRouter,
  type Attempt,
  type ModelEvent,
  type RouteOptions,
  type RoutedTurn,
  type TurnRequest,
} from '../providers/index.js';
import type { RunContext } from './run-context.js';

interface RecordedCall {
  endpoint: string;
  attempts: Attempt[];
  events: ModelEvent[];
}

/**
 * The model router of a durable run: every model call is a checkpointed `model_call` step. The first
 * execution streams the upstream's events live (the turn emits them as they come) and records them all
 * when the call ends; a re-execution after a crash or an approval replays the recorded events without
 * contacting the model, so a run resumes with exactly the answers it had (and the same tool calls).
 * A call that was in flight when the process died is made again (its events were not recorded).
 */
export class JournaledRouter extends ModelRouter {
  constructor(
    private readonly inner: ModelRouter,
    private readonly ctx: RunContext,
  ) {
    super(inner.registry);
  }

  override async open(
    modelId: string,
    request: TurnRequest,
    options: RouteOptions = {},
  ): Promise<RoutedTurn> {
    const channel = new EventChannel<ModelEvent>();
    const consumerGone = new AbortController();
    let started!: (routed: Pick<RoutedTurn, 'endpoint' | 'attempts'>) => void;
    const live = new Promise<Pick<RoutedTurn, 'endpoint' | 'attempts'>>((resolve) => (started = resolve));
    const step = this.ctx.step('model_call', `model:${modelId}`, { model: modelId }, async (handle) => {
      const signal = AbortSignal.any([
        handle.signal,
        consumerGone.signal,
        ...(options.signal ? [options.signal] : []),
      ]);
      const routed = await this.inner.open(modelId, request, { ...options, signal });
      started(routed);
      const events: ModelEvent[] = [];
      for await (const event of routed.events) {
        events.push(event);
        channel.push(event);
      }
      channel.end();
      return { endpoint: routed.endpoint.id, attempts: routed.attempts, events } satisfies RecordedCall;
    });
    step.catch((error: unknown) => channel.fail(error));
    const first = await Promise.race([live, step.then((recorded) => ({ recorded }))]);
    if ('recorded' in first && !channel.touched) {
      const recorded = first.recorded;
      const endpoint =
        this.registry.endpoints.find((e) => e.id === recorded.endpoint) ?? this.resolve(modelId);
      // Replayed from the journal: no model was contacted (the call was audited by the execution that made it).
      return { endpoint, attempts: recorded.attempts, events: replay(recorded.events), live: () => false };
    }
    const routed = 'recorded' in first ? await live : first;
    return { ...routed, events: channel.iterate(() => consumerGone.abort()), live: () => true };
  }
}

async function* replay(events: readonly ModelEvent[]): AsyncGenerator<ModelEvent> {
  for (const event of events) yield event;
}

/** A single-consumer queue between the step that reads the upstream and the turn that streams it. */
class EventChannel<T> {
  private readonly buffer: T[] = [];
  private done = false;
  private error: { value: unknown } | undefined;
  private wake: (() => void) | undefined;
  touched = false;

  push(value: T): void {
    this.touched = true;
    this.buffer.push(value);
    this.wake?.();
  }

  end(): void {
    this.done = true;
    this.wake?.();
  }

  fail(error: unknown): void {
    this.error = { value: error };
    this.wake?.();
  }

  async *iterate(onAbandon: () => void): AsyncGenerator<T> {
    let finished = false;
    try {
      for (;;) {
        const next = this.buffer.shift();
        if (next !== undefined) {
          yield next;
          continue;
        }
        if (this.error) throw this.error.value;
        if (this.done) {
          finished = true;
          return;
        }
        await new Promise<void>((resolve) => (this.wake = resolve));
        this.wake = undefined;
      }
    } finally {
      // A consumer that stops early (a safety block, a cancel) must not leave the upstream call running.
      if (!finished) onAbandon();
    }
  }
}
