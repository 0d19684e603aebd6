import { describe, expect, it } from 'vitest';
import { canonicalJson } from './canonical-json.js';

describe('canonicalJson', () => {
  it('sorts keys at every depth and writes no whitespace', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { z: true, y: null }], c: 'x' } })).toBe(
      '{"a":{"c":"x","d":[1,{"y":null,"z":true}]},"b":1}',
    );
  });

  it('sorts by UTF-16 code units as RFC 8785 does', () => {
    // RFC 8785 section 3.2.3: U+1F600 (a surrogate pair, 0xD83D…) sorts before U+FB33 though its code point is higher.
    expect(canonicalJson({ '\u20ac': 1, '\r': 2, '\ufb33': 6, '1': 3, é: 4, '\ud83d\ude00': 5 })).toBe(
      '{"\\r":2,"1":3,"é":4,"€":1,"😀":5,"\ufb33":6}',
    );
  });

  it('prints numbers as ECMAScript does', () => {
    expect(canonicalJson([1e21, 1e-7, -0, 0.1 + 0.2, 333333333.3333333])).toBe(
      '[1e+21,1e-7,0,0.30000000000000004,333333333.3333333]',
    );
  });

  it('omits undefined properties so absent and undefined fields hash alike', () => {
    expect(canonicalJson({ a: 1, b: undefined })).toBe(canonicalJson({ a: 1 }));
  });

  it.each([
    ['NaN', Number.NaN],
    ['Infinity', { x: Number.POSITIVE_INFINITY }],
    ['-Infinity', [Number.NEGATIVE_INFINITY]],
    ['bigint', 1n],
    ['Date', new Date(0)],
    ['Map', new Map()],
    ['function', () => 1],
    ['undefined in an array', [undefined]],
  ])('refuses %s', (_name, value) => {
    expect(() => canonicalJson(value)).toThrow(/canonical JSON/);
  });

  it('refuses cycles but accepts shared (acyclic) references', () => {
    const shared = { x: 1 };
    expect(canonicalJson({ a: shared, b: shared })).toBe('{"a":{"x":1},"b":{"x":1}}');
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => canonicalJson(cyclic)).toThrow(/cycle/);
  });

  it('escapes strings like JSON, including lone surrogates', () => {
    expect(canonicalJson('a"b\\c\n\u0001\ud800')).toBe('"a\\"b\\\\c\\n\\u0001\\ud800"');
  });
});
