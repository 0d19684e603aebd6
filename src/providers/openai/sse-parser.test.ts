import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SseParser, type SseEvent } from './sse-parser.js';

const parseAll = (pieces: readonly string[]): SseEvent[] => {
  const parser = new SseParser();
  const out: SseEvent[] = [];
  for (const piece of pieces) parser.push(piece, out);
  return parser.end(out);
};

const stream =
  ': keep-alive\n\n' +
  'data: {"a":1}\n\n' +
  'event: error\r\ndata: {"error":{"message":"boom"}}\r\n\r\n' +
  'data:no-space\rdata:  two spaces\r\r' +
  'id: 7\nretry: 100\ndata: [DONE]\n\n';
const expected: SseEvent[] = [
  { event: '', data: '{"a":1}' },
  { event: 'error', data: '{"error":{"message":"boom"}}' },
  { event: '', data: 'no-space\n two spaces' },
  { event: '', data: '[DONE]' },
];

describe('SseParser', () => {
  it('parses LF, CRLF and CR line endings, comments, event names and multi-line data', () => {
    expect(parseAll([stream])).toEqual(expected);
  });

  it('gives the same events however the stream is split across reads', () => {
    // Every single split point, including between the CR and LF of a CRLF.
    for (let i = 0; i <= stream.length; i++) {
      expect(parseAll([stream.slice(0, i), stream.slice(i)])).toEqual(expected);
    }
    fc.assert(
      fc.property(fc.array(fc.nat(stream.length), { maxLength: 12 }), (cuts) => {
        const points = [0, ...[...cuts].sort((a, b) => a - b), stream.length];
        const pieces = points.slice(1).map((end, i) => stream.slice(points[i], end));
        expect(parseAll(pieces)).toEqual(expected);
      }),
    );
  });

  it('dispatches an event only at its blank line, never half of one', () => {
    const parser = new SseParser();
    expect(parser.push('data: {"x"')).toEqual([]);
    expect(parser.push(':1}\n')).toEqual([]);
    expect(parser.push('\n')).toEqual([{ event: '', data: '{"x":1}' }]);
  });

  it('ignores blank lines with no data, a field without a colon, and unknown fields', () => {
    expect(parseAll(['\n\n\nfoo: bar\ndata\n\n'])).toEqual([{ event: '', data: '' }]);
  });

  it('dispatches a final event that lacks its blank line when the stream ends', () => {
    expect(parseAll(['data: {"a":1}\n\ndata: [DONE]'])).toEqual([
      { event: '', data: '{"a":1}' },
      { event: '', data: '[DONE]' },
    ]);
    expect(parseAll(['data: x\r'])).toEqual([{ event: '', data: 'x' }]);
  });

  it('refuses an endless line instead of buffering it', () => {
    const parser = new SseParser();
    const big = 'x'.repeat(1024 * 1024);
    expect(() => {
      for (let i = 0; i < 17; i++) parser.push(big);
    }).toThrow(/exceeded/);
  });
});
