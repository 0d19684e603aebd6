import type { IncomingHttpHeaders } from 'node:http';
import { StringDecoder } from 'node:string_decoder';
import type { Dispatcher } from 'undici';
import { UpstreamError, type UpstreamContext } from '../provider-error.js';
import { SseParser, type SseEvent } from './sse-parser.js';

/** Parsed events held before the upstream is paused, so a slow reader never buffers a whole answer. */
const highWater = 256;

/**
 * One HTTP exchange as an undici dispatch handler that a pulling reader drains. SSE is parsed as bytes
 * arrive (no Readable, no web stream, one promise per network read rather than several per chunk); an
 * error answer or a plain JSON answer is gathered whole, up to `wholeLimit` characters.
 */
export class ChatExchange implements Dispatcher.DispatchHandler {
  /** 0 until the response headers arrive. */
  status = 0;
  headers: IncomingHttpHeaders = {};
  /** True for an answer read whole (non-2xx, or JSON from a server that ignored `stream: true`). */
  whole = false;
  text = '';
  ended = false;
  /** Set once: the transport's error, a parse failure, or the abort reason. */
  failure: unknown;

  private events: SseEvent[] = [];
  private readonly parser = new SseParser();
  private readonly decoder = new StringDecoder('utf8');
  private controller: Dispatcher.DispatchController | undefined;
  private pendingAbort: Error | undefined;
  private wake: (() => void) | undefined;

  constructor(
    private readonly context: UpstreamContext,
    private readonly wholeLimit: (status: number) => number,
  ) {}

  get settled(): boolean {
    return this.ended || this.failure !== undefined;
  }

  get pending(): number {
    return this.events.length;
  }

  /** Resolves at the next change (data, end, error, abort); check the state before waiting. */
  changed(): Promise<void> {
    return new Promise((resolve) => (this.wake = resolve));
  }

  /** The events parsed so far, handed over whole; reading resumes if it was paused for the reader. */
  take(): SseEvent[] {
    const events = this.events;
    this.events = [];
    if (this.controller?.paused) this.controller.resume();
    return events;
  }

  /** Stops the upstream request (its socket is closed) and fails the exchange with `reason`. */
  abort(reason: Error): void {
    if (this.settled) return; // finished or already failing: nothing left to stop
    this.fail(reason);
    if (this.controller) this.controller.abort(reason);
    else this.pendingAbort = reason;
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.pendingAbort) controller.abort(this.pendingAbort);
  }

  onResponseStart(
    _controller: Dispatcher.DispatchController,
    status: number,
    headers: IncomingHttpHeaders,
  ): void {
    if (status < 200) return; // informational (103 Early Hints): the real answer follows
    this.status = status;
    this.headers = headers;
    const type = headers['content-type'];
    const json = typeof type === 'string' && type.includes('json') && !type.includes('event-stream');
    this.whole = status > 299 || json;
    this.notify();
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.failure !== undefined) return;
    if (this.whole) {
      // Past the limit the rest is dropped: an error message is cut, an oversized answer fails to parse.
      if (this.text.length <= this.wholeLimit(this.status)) this.text += this.decoder.write(chunk);
      return;
    }
    try {
      this.parser.push(this.decoder.write(chunk), this.events);
    } catch (error) {
      const why = error instanceof Error ? error.message : 'unreadable';
      this.abort(
        new UpstreamError(
          'upstream_error',
          `Model endpoint ${this.context.endpoint} sent a malformed stream (${why}).`,
          {
            retryable: true,
            cause: error,
          },
        ),
      );
      return;
    }
    if (this.events.length > 0) {
      if (this.events.length > highWater) controller.pause();
      this.notify();
    }
  }

  onResponseEnd(): void {
    if (this.failure !== undefined) return;
    const rest = this.decoder.end();
    if (this.whole) this.text += rest;
    else this.parser.end(this.events, rest);
    this.ended = true;
    this.notify();
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    this.fail(error);
  }

  private fail(error: unknown): void {
    if (this.settled) return;
    this.failure = error;
    this.notify();
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}
