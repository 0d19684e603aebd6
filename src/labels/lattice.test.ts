import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalLabel, parseCanonicalLabel } from './canonical.js';
import { dominates, glb, lub } from './lattice.js';
import { normalizeLabel, type Label } from './label.js';
import { parseBanner, parsePortion } from './marking-parse.js';
import { renderBanner, renderPortion } from './marking-render.js';
import { arbLabel } from '../../test/support/label-arbitraries.js';

const b = parseCanonicalLabel;
const same = (x: Label, y: Label): boolean => canonicalLabel(x) === canonicalLabel(y);
const runs = { numRuns: 400 };

describe('CAPCO roll-up', () => {
  it.each([
    ['TOP SECRET//SI', 'SECRET//TK//ORCON', 'TOP SECRET//SI/TK//ORCON'],
    ['SECRET//REL TO USA, AUS, GBR', 'SECRET//REL TO USA, GBR', 'SECRET//REL TO USA, GBR'],
    ['SECRET//REL TO USA, GBR', 'SECRET//REL TO USA, AUS', 'SECRET//NOFORN'],
    ['SECRET//NOFORN', 'SECRET//REL TO USA, FVEY', 'SECRET//NOFORN'],
    ['SECRET', 'CONFIDENTIAL//REL TO USA, FVEY', 'SECRET//REL TO USA, AUS, CAN, GBR, NZL'],
    ['UNCLASSIFIED//FOUO', 'SECRET', 'SECRET'],
    ['UNCLASSIFIED//FOUO', 'UNCLASSIFIED', 'UNCLASSIFIED//FOUO'],
    ['SECRET//RELIDO', 'SECRET//NOFORN', 'SECRET//NOFORN'],
    ['SECRET//REL TO USA, GBR/RELIDO', 'SECRET//REL TO USA, GBR', 'SECRET//REL TO USA, GBR'],
    [
      'SECRET//REL TO USA, GBR/RELIDO',
      'SECRET//REL TO USA, AUS, GBR/RELIDO',
      'SECRET//REL TO USA, GBR/RELIDO',
    ],
    ['SECRET//REL TO USA, GBR/RELIDO', 'SECRET//REL TO USA, AUS/RELIDO', 'SECRET//NOFORN'],
    ['TOP SECRET//SI-G ABCD', 'SECRET//SI-G ACDE/TK', 'TOP SECRET//SI-G ABCD ACDE/TK'],
    ['SECRET ACCESS=A', 'SECRET ACCESS=B|C', 'SECRET ACCESS=A&(B|C)'],
    ['SECRET ACCESS=A|B', 'CONFIDENTIAL', 'SECRET ACCESS=A|B'],
  ])('lub(%s, %s) = %s', (x, y, want) => {
    expect(canonicalLabel(lub(b(x), b(y)))).toBe(want);
    expect(canonicalLabel(lub(b(y), b(x)))).toBe(want);
  });

  it.each([
    ['TOP SECRET//SI/TK//NOFORN', 'SECRET//SI//REL TO USA, GBR', 'SECRET//SI//REL TO USA, GBR'],
    ['SECRET//REL TO USA, GBR', 'SECRET//REL TO USA, AUS', 'SECRET//REL TO USA, AUS, GBR'],
    ['SECRET//NOFORN', 'SECRET', 'SECRET'],
    ['SECRET', 'UNCLASSIFIED//FOUO', 'UNCLASSIFIED//FOUO'],
    ['SECRET ACCESS=A', 'SECRET ACCESS=B', 'SECRET ACCESS=A|B'],
  ])('glb(%s, %s) = %s', (x, y, want) => {
    expect(canonicalLabel(glb(b(x), b(y)))).toBe(want);
  });

  it('orders releasability: NOFORN dominates REL TO, which dominates no marking', () => {
    expect(dominates(b('SECRET//NOFORN'), b('SECRET//REL TO USA, GBR'))).toBe(true);
    expect(dominates(b('SECRET//REL TO USA, GBR'), b('SECRET//NOFORN'))).toBe(false);
    expect(dominates(b('SECRET//REL TO USA, GBR'), b('SECRET'))).toBe(true);
    expect(dominates(b('SECRET'), b('UNCLASSIFIED//FOUO'))).toBe(true);
    expect(dominates(b('TOP SECRET//SI'), b('SECRET//TK'))).toBe(false);
  });
});

describe('lattice laws (property tests)', () => {
  it('lub and glb are commutative, associative and idempotent', () => {
    fc.assert(
      fc.property(arbLabel, arbLabel, arbLabel, (x, y, z) => {
        expect(same(lub(x, y), lub(y, x))).toBe(true);
        expect(same(glb(x, y), glb(y, x))).toBe(true);
        expect(same(lub(lub(x, y), z), lub(x, lub(y, z)))).toBe(true);
        expect(same(glb(glb(x, y), z), glb(x, glb(y, z)))).toBe(true);
        expect(same(lub(x, x), x)).toBe(true);
        expect(same(glb(x, x), x)).toBe(true);
      }),
      runs,
    );
  });

  it('absorption holds: lub(x, glb(x, y)) = x = glb(x, lub(x, y))', () => {
    fc.assert(
      fc.property(arbLabel, arbLabel, (x, y) => {
        expect(canonicalLabel(lub(x, glb(x, y)))).toBe(canonicalLabel(x));
        expect(canonicalLabel(glb(x, lub(x, y)))).toBe(canonicalLabel(x));
      }),
      runs,
    );
  });

  it('dominates is a partial order that agrees with lub and glb', () => {
    fc.assert(
      fc.property(arbLabel, arbLabel, arbLabel, (x, y, z) => {
        const lower = glb(x, y); // so that the dominated case is exercised, not only random pairs
        expect(dominates(x, x)).toBe(true);
        expect(dominates(x, lower)).toBe(true);
        if (dominates(x, y) && dominates(y, x)) expect(same(x, y)).toBe(true);
        const higher = lub(x, z);
        expect(dominates(higher, lower)).toBe(true); // transitivity through x
        for (const [p, q] of [
          [x, y],
          [x, lower],
          [higher, x],
        ] as const) {
          expect(dominates(p, q)).toBe(same(lub(p, q), p));
          expect(dominates(p, q)).toBe(same(glb(p, q), q));
        }
      }),
      runs,
    );
  });

  it('lub is an upper bound and the least one; glb a lower bound', () => {
    fc.assert(
      fc.property(arbLabel, arbLabel, arbLabel, (x, y, z) => {
        const up = lub(x, y);
        expect(dominates(up, x) && dominates(up, y)).toBe(true);
        const down = glb(x, y);
        expect(dominates(x, down) && dominates(y, down)).toBe(true);
        if (dominates(z, x) && dominates(z, y)) expect(dominates(z, up)).toBe(true);
        const bound = lub(up, z); // an upper bound of x and y that is not lub itself
        expect(dominates(bound, up)).toBe(true);
      }),
      runs,
    );
  });

  it('round-trips through canonical, banner and portion forms', () => {
    fc.assert(
      fc.property(arbLabel, (x) => {
        expect(parseCanonicalLabel(canonicalLabel(x))).toEqual(normalizeLabel(x));
        const { access: _access, ...marking } = normalizeLabel(x);
        expect(parseBanner(renderBanner(x))).toEqual(normalizeLabel(marking));
        expect(parsePortion(renderPortion(x))).toEqual(normalizeLabel(marking));
      }),
      runs,
    );
  });
});
