import { appendFile } from 'node:fs/promises';

/**
 * Streams committed entries (export lines) to an external system: a file another agent tails, or a SIEM's HTTP
 * collector. `enqueue` only queues, so a slow or dead sink never delays a request; the log in the store stays
 * the record, and a receiver can spot gaps by index.
 */
export interface AuditSink {
  enqueue(lines: readonly string[]): void;
  /** Delivers what is queued (best effort) and stops. */
  close(): Promise<void>;
}

export interface SinkLogger {
  warn(detail: object, message: string): void;
}

export interface QueuedSinkOptions {
  /** Lines held while the receiver is slow; beyond this the oldest are dropped (and counted in a warning). */
  maxQueue?: number;
  /** Lines per delivery. */
  batchSize?: number;
  /** Attempts per batch before it is dropped. */
  attempts?: number;
  logger?: SinkLogger;
}

/** A sink that delivers queued lines in order, one batch at a time, retrying with backoff. */
export function createQueuedSink(
  deliver: (lines: string[]) => Promise<void>,
  options: QueuedSinkOptions = {},
): AuditSink {
  const maxQueue = options.maxQueue ?? 100_000;
  const batchSize = options.batchSize ?? 500;
  const attempts = options.attempts ?? 5;
  let queue: string[] = [];
  let running: Promise<void> | undefined;
  let dropped = 0;

  async function pump(): Promise<void> {
    while (queue.length > 0) {
      const batch = queue.slice(0, batchSize);
      queue = queue.slice(batch.length);
      for (let attempt = 1; ; attempt += 1) {
        try {
          await deliver(batch);
          break;
        } catch (error) {
          if (attempt >= attempts) {
            dropped += batch.length;
            options.logger?.warn(
              { err: error, dropped },
              'audit sink delivery failed; lines dropped (the store keeps them)',
            );
            break;
          }
          await new Promise((resolve) => setTimeout(resolve, Math.min(100 * 2 ** attempt, 5_000)).unref());
        }
      }
    }
  }

  const start = (): void => {
    running ??= pump().finally(() => {
      running = undefined;
      if (queue.length > 0) start();
    });
  };

  return {
    enqueue(lines) {
      queue.push(...lines);
      if (queue.length > maxQueue) {
        const excess = queue.length - maxQueue;
        queue = queue.slice(excess);
        dropped += excess;
        options.logger?.warn(
          { dropped },
          'audit sink queue full; oldest lines dropped (the store keeps them)',
        );
      }
      start();
    },
    async close() {
      while (running) await running;
    },
  };
}

/** Appends JSONL to a file. */
export const createFileSink = (path: string, options: QueuedSinkOptions = {}): AuditSink =>
  createQueuedSink((lines) => appendFile(path, lines.join('\n') + '\n', { mode: 0o600 }), options);

export interface HttpSinkOptions extends QueuedSinkOptions {
  url: string;
  headers?: Record<string, string>;
  timeoutMs?: number;
}

/** POSTs JSONL (`application/x-ndjson`) to a collector URL; a non-2xx answer counts as a failed delivery. */
export function createHttpSink(options: HttpSinkOptions): AuditSink {
  return createQueuedSink(async (lines) => {
    const response = await fetch(options.url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-ndjson', ...options.headers },
      body: lines.join('\n') + '\n',
      signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
    });
    await response.arrayBuffer().catch(() => undefined);
    if (!response.ok) throw new Error(`audit sink answered HTTP ${response.status}`);
  }, options);
}
