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
  /**
   * `labelled` settles once the handler has raised the run to the turn's label. The turn's first model call
   * is opened while the turn is prepared, before the handler knows that label (the conversation, history or
   * recalled memory may raise it), so a call's step completes only after it, under the run's label then: the
   * recorded answer is never labelled below the context it answers.
   */
  constructor(
    private readonly inner: ModelRouter,
    private readonly ctx: RunContext,
    private readonly labelled: Promise<unknown> = Promise.resolve(),
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
      // Only the run's own stop ends the wait: a consumer that stopped reading after the last event (compaction
      // stops at `done`) does not make a finished call fail.
      await untilSettled(this.labelled, handle.signal);
      handle.raiseLabel(async (runLabelId) => runLabelId);
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

/** Waits for `promise` to settle (either way), or throws when `signal` aborts first. */
async function untilSettled(promise: Promise<unknown>, signal: AbortSignal): Promise<void> {
  signal.throwIfAborted();
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    await Promise.race([promise.then(noop, noop), aborted]);
  } finally {
    if (onAbort) signal.removeEventListener('abort', onAbort);
  }
}

const noop = (): void => undefined;

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
