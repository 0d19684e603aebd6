import { EventEmitter } from 'node:events';
import type { RunEvent } from '../store/repos/run-repo.js';
import type { Store } from '../store/store.js';
import { isFinal } from './run-status.js';

/**
 * In-process fan-out of newly recorded run events, so a live stream on the node running the run sees
 * them at once; streams on other nodes fall back to polling the store (`pollMs`).
 */
export class RunEventBus {
  private readonly emitter = new EventEmitter();

  constructor() {
    this.emitter.setMaxListeners(0);
  }

  publish(runId: string): void {
    this.emitter.emit(runId);
  }

  /** Resolves at the next publish for `runId`, or after `ms`. */
  next(runId: string, ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.emitter.off(runId, done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.emitter.once(runId, done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }
}

/**
 * Every event of a run after sequence number `after` (-1 for all): first the stored ones, then live ones as
 * they are recorded, ending when the run is final and every event was delivered (or `signal` aborts).
 */
export async function* followRunEvents(
  store: Store,
  bus: RunEventBus,
  runId: string,
  after: number,
  options: { signal?: AbortSignal; pollMs?: number } = {},
): AsyncGenerator<RunEvent> {
  let last = after;
  while (!options.signal?.aborted) {
    // Read the status before the events: a run that is final here has recorded all its events already.
    const final = isFinal((await store.runs.byId(runId))?.status ?? 'failed');
    const events = await store.runs.events(runId, last, 500);
    for (const event of events) {
      last = event.seq;
      yield event;
    }
    if (events.length === 500) continue;
    if (final) return;
    await bus.next(runId, options.pollMs ?? 500, options.signal);
  }
}
