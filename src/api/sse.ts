import type { FastifyReply } from 'fastify';

/**
 * Server-sent events on a hijacked reply. `closed()` says whether the client went away; writes after that are
 * dropped (the producer keeps running so it can store what it produced).
 */
export interface SseWriter {
  write(data: unknown, event?: string): void;
  end(): void;
  closed(): boolean;
}

export function openSse(reply: FastifyReply): SseWriter {
  reply.hijack();
  const raw = reply.raw;
  raw.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
    'x-request-id': String(reply.request.id),
  });
  raw.flushHeaders();
  const gone = () => raw.destroyed || raw.writableEnded;
  return {
    write(data, event) {
      if (gone()) return;
      raw.write(
        `${event ? `event: ${event}\n` : ''}data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`,
      );
    },
    end() {
      if (!gone()) raw.end();
    },
    closed: gone,
  };
}

/** An AbortSignal that fires when the client disconnects before the answer is complete. */
export function disconnectSignal(reply: FastifyReply): AbortSignal {
  const controller = new AbortController();
  reply.raw.on('close', () => {
    if (!reply.raw.writableFinished)
      controller.abort(new DOMException('The client disconnected.', 'AbortError'));
  });
  return controller.signal;
}
