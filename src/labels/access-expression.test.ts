import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isEnclaveError } from '../errors/index.js';
import { accessCnf, evaluateCnf, renderCnf, toCnf } from './access-cnf.js';
import { evaluateAccess, parseAccessExpression, quoteToken, type AccessNode } from './access-expression.js';

interface DataSet {
  description: string;
  auths: string[][];
  tests: { expectedResult: 'ACCESSIBLE' | 'INACCESSIBLE' | 'ERROR'; expressions: string[] }[];
}
const dataSets = JSON.parse(
  readFileSync(new URL('../../../shared/datasets/accumulo-access/testdata.json', import.meta.url), 'utf8'),
) as DataSet[];

/** Accessible only when every authorization set grants (Accumulo's MultiAccessEvaluatorImpl). */
function outcome(expression: string, auths: string[][]): string {
  let node: AccessNode | null;
  try {
    node = parseAccessExpression(expression);
  } catch (error) {
    if (isEnclaveError(error) && error.code === 'invalid_label') return 'ERROR';
    throw error;
  }
  const viaTree = auths.every((set) => evaluateAccess(node, (t) => set.includes(t)));
  // The normalized form used in labels must agree with the tree, and must itself parse to the same CNF.
  const cnf = toCnf(node);
  expect(auths.every((set) => evaluateCnf(cnf, (t) => set.includes(t)))).toBe(viaTree);
  expect(accessCnf(renderCnf(cnf))).toEqual(cnf);
  return viaTree ? 'ACCESSIBLE' : 'INACCESSIBLE';
}

describe('Apache Accumulo access expression test data', () => {
  const cases = dataSets.flatMap((d) =>
    d.tests.flatMap((t) =>
      t.expressions.map((e) => ({ set: d.description, auths: d.auths, e, want: t.expectedResult })),
    ),
  );

  it('holds all 242 cases', () => {
    expect(cases).toHaveLength(242);
    expect(cases.filter((c) => c.want === 'ERROR')).toHaveLength(113);
  });

  it.each(cases.map((c) => [c.want, c.e, c.set, c.auths] as const))('%s: %j (%s)', (want, e, _set, auths) => {
    expect(outcome(e, auths)).toBe(want);
  });
});

describe('access expression normal form', () => {
  it('normalizes equivalent expressions to one text', () => {
    expect(renderCnf(accessCnf('(B|A)&A'))).toBe('A');
    expect(renderCnf(accessCnf('(A&B)|(A&C)'))).toBe('A&(B|C)');
    expect(renderCnf(accessCnf('C|B|A'))).toBe('A|B|C');
    expect(renderCnf(accessCnf('"a b"&"x\\"y"'))).toBe('"a b"&"x\\"y"');
    expect(renderCnf(accessCnf(''))).toBe('');
  });

  it('refuses control characters in quoted tokens, overlong and exponential expressions', () => {
    expect(() => parseAccessExpression('"a\u0007b"')).toThrow(/control or invalid character/);
    expect(() => parseAccessExpression('"a\uFFFDb"')).toThrow(/control or invalid character/);
    expect(() => parseAccessExpression('A'.repeat(2049))).toThrow(/longer than 2048/);
    const blowUp = Array.from({ length: 12 }, (_, i) => `(a${i}&b${i})`).join('|');
    expect(() => accessCnf(blowUp)).toThrow(/too complex/);
  });

  const token = fc.oneof(
    fc.constantFrom('A', 'B', 'C', 'D', 'E'),
    fc.constantFrom('a b', 'x"y', '五', 'p\\q'),
  );
  const expr: fc.Arbitrary<string> = fc.letrec<{ e: string }>((tie) => ({
    e: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      token.map(quoteToken),
      fc.tuple(tie('e'), tie('e'), fc.constantFrom('&', '|')).map(([a, b, op]) => `(${a})${op}(${b})`),
    ),
  })).e;

  it('keeps meaning and is stable: eval(tree) = eval(cnf), normalize(render(cnf)) = cnf', () => {
    fc.assert(
      fc.property(expr, fc.subarray(['A', 'B', 'C', 'D', 'E', 'a b', 'x"y', '五', 'p\\q']), (e, auths) => {
        const node = parseAccessExpression(e);
        const cnf = toCnf(node);
        const has = (t: string): boolean => auths.includes(t);
        expect(evaluateCnf(cnf, has)).toBe(evaluateAccess(node, has));
        expect(accessCnf(renderCnf(cnf))).toEqual(cnf);
      }),
      { numRuns: 300 },
    );
  });
});
