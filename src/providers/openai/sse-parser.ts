/** One server-sent event: its `event:` name ('' when none) and its `data:` lines joined by newlines. */
export interface SseEvent {
  event: string;
  data: string;
}

/** An upstream line longer than this is not a chat chunk; refusing it bounds what a broken server can pin. */
const maxBufferedChars = 16 * 1024 * 1024;

/**
 * An incremental text/event-stream parser (the WHATWG SSE rules that matter to Chat Completions): lines end
 * in CRLF, LF or CR, even when a CRLF is split across two reads; `:` lines are comments (keep-alives);
 * several `data:` lines join with '\n'; one space after the colon is dropped; a blank line dispatches.
 * Feed it decoded text as it arrives; it keeps only the unfinished tail line between reads.
 */
export class SseParser {
  private tail = '';
  private data: string | undefined;
  private event = '';
  /** The previous read ended in CR: a LF opening the next read belongs to that line ending. */
  private skipLf = false;

  /** Parses one read; complete events are pushed onto `out` (returned for convenience). */
  push(text: string, out: SseEvent[] = []): SseEvent[] {
    let buffer = this.tail ? this.tail + text : text;
    let pos = 0;
    if (this.skipLf) {
      this.skipLf = false;
      if (buffer.charCodeAt(0) === 10) pos = 1;
    }
    const hasCr = buffer.includes('\r');
    for (;;) {
      let end = buffer.indexOf('\n', pos);
      let next = end + 1;
      if (hasCr) {
        const cr = buffer.indexOf('\r', pos);
        if (cr !== -1 && (end === -1 || cr < end)) {
          end = cr;
          if (cr + 1 === buffer.length) {
            next = cr + 1;
            this.skipLf = true;
          } else {
            next = buffer.charCodeAt(cr + 1) === 10 ? cr + 2 : cr + 1;
          }
        }
      }
      if (end === -1) break;
      this.line(buffer, pos, end, out);
      pos = next;
    }
    buffer = pos === 0 ? buffer : buffer.slice(pos);
    if (buffer.length > maxBufferedChars) {
      throw new Error(`a stream line exceeded ${maxBufferedChars} characters`);
    }
    this.tail = buffer;
    return out;
  }

  /**
   * The stream ended. An event missing its final blank line is still dispatched: a server that closes right
   * after `data: [DONE]` meant it, and dropping its last chunk would lose a finish reason or usage.
   */
  end(out: SseEvent[] = [], rest = ''): SseEvent[] {
    if (rest) this.push(rest, out);
    if (this.tail) {
      const last = this.tail;
      this.tail = '';
      this.line(last, 0, last.length, out);
    }
    this.dispatch(out);
    return out;
  }

  private line(buffer: string, start: number, end: number, out: SseEvent[]): void {
    if (start === end) {
      this.dispatch(out);
      return;
    }
    if (buffer.charCodeAt(start) === 58 /* ':' comment */) return;
    const colon = buffer.indexOf(':', start);
    const hasValue = colon !== -1 && colon < end;
    const field = buffer.slice(start, hasValue ? colon : end);
    let valueStart = hasValue ? colon + 1 : end;
    if (valueStart < end && buffer.charCodeAt(valueStart) === 32) valueStart++;
    if (field === 'data') {
      const value = buffer.slice(valueStart, end);
      this.data = this.data === undefined ? value : `${this.data}\n${value}`;
    } else if (field === 'event') {
      this.event = buffer.slice(valueStart, end);
    }
    // `id:` and `retry:` steer browser reconnection, which a one-shot completion request never does.
  }

  private dispatch(out: SseEvent[]): void {
    if (this.data !== undefined) out.push({ event: this.event, data: this.data });
    this.data = undefined;
    this.event = '';
  }
}
