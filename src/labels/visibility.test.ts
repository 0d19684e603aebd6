import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { labelId } from '../store/repos/label-repo.js';
import { canonicalLabel, parseCanonicalLabel } from './canonical.js';
import type { Clearance } from './label.js';
import { arbLabel } from '../../test/support/label-arbitraries.js';
import { canRead, coversClearance, intersectClearance, visibleLabelIds } from './visibility.js';

const clearance = (label: string, authorizations: string[] = []): Clearance => ({
  label: parseCanonicalLabel(label),
  authorizations,
});
const reads = (c: Clearance, label: string): boolean => canRead(c, parseCanonicalLabel(label));

describe('canRead', () => {
  const us = clearance('TOP SECRET//SI/TK', ['A', 'B']);
  const uk = clearance('SECRET//REL TO USA, GBR');

  it('refuses read-up in level and compartments', () => {
    expect(reads(us, 'SECRET//SI//NOFORN')).toBe(true);
    expect(reads(us, 'TOP SECRET//SI-G ABCD')).toBe(false); // SI-G is a compartment the reader lacks
    expect(reads(us, 'TOP SECRET//HCS')).toBe(false);
    expect(reads(uk, 'TOP SECRET//REL TO USA, GBR')).toBe(false);
    expect(reads(clearance('UNCLASSIFIED'), 'UNCLASSIFIED//FOUO')).toBe(true);
    expect(reads(clearance('UNCLASSIFIED'), 'CUI')).toBe(false);
  });

  it('applies releasability to the reader nationalities in the clearance REL TO', () => {
    expect(reads(us, 'SECRET//REL TO USA, AUS')).toBe(true);
    expect(reads(uk, 'SECRET//REL TO USA, FVEY')).toBe(true);
    expect(reads(uk, 'SECRET//REL TO USA, GBR')).toBe(true);
    expect(reads(uk, 'SECRET')).toBe(true);
    expect(reads(uk, 'SECRET//NOFORN')).toBe(false);
    expect(reads(uk, 'SECRET//REL TO USA, AUS')).toBe(false);
    expect(reads(clearance('SECRET//NOFORN'), 'SECRET//NOFORN')).toBe(true);
  });

  it('treats dissemination controls as caveats and needs the access expression satisfied', () => {
    expect(reads(us, 'SECRET//ORCON/PROPIN//LIMDIS')).toBe(true);
    expect(reads(us, 'SECRET ACCESS=A&(B|C)')).toBe(true);
    expect(reads(us, 'SECRET ACCESS=A&C')).toBe(false);
    expect(reads(clearance('TOP SECRET'), 'SECRET ACCESS=A')).toBe(false);
  });
});

describe('visibleLabelIds', () => {
  const entries = [
    'UNCLASSIFIED',
    'SECRET//NOFORN',
    'TOP SECRET//SI',
    'SECRET ACCESS=X',
    'CONFIDENTIAL//REL TO USA, GBR',
  ];
  const catalog = [...entries, 'NOT A LABEL'].map((canonical) => ({ id: labelId(canonical), canonical }));

  it('returns the ids the clearance may read, in catalogue order, and skips entries that do not parse', () => {
    expect(visibleLabelIds(catalog, clearance('SECRET', ['X']))).toEqual(
      ['UNCLASSIFIED', 'SECRET//NOFORN', 'SECRET ACCESS=X', 'CONFIDENTIAL//REL TO USA, GBR'].map(labelId),
    );
    expect(visibleLabelIds(catalog, clearance('SECRET//REL TO USA, GBR'))).toEqual(
      ['UNCLASSIFIED', 'CONFIDENTIAL//REL TO USA, GBR'].map(labelId),
    );
    expect(visibleLabelIds([], clearance('TOP SECRET'))).toEqual([]);
  });

  it('agrees with canRead on random catalogues', () => {
    fc.assert(
      fc.property(
        fc.array(arbLabel, { maxLength: 20 }),
        arbLabel,
        fc.subarray(['A', 'B', 'C', 'x y']),
        (labels, c, auths) => {
          const cl = { label: c, authorizations: auths };
          const cat = labels.map((l, i) => ({ id: `l${i}`, canonical: canonicalLabel(l) }));
          expect(visibleLabelIds(cat, cl)).toEqual(
            cat.filter((_, i) => canRead(cl, labels[i] ?? c)).map((e) => e.id),
          );
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('intersectClearance (agent acting for a user)', () => {
  it('takes the lower level, common compartments and authorizations, and both nationalities', () => {
    const agent = clearance('TOP SECRET//SI/TK', ['A', 'B']);
    const user = clearance('SECRET//SI//REL TO USA, GBR', ['B', 'C']);
    const both = intersectClearance(agent, user);
    expect(canonicalLabel(both.label)).toBe('SECRET//SI//REL TO USA, GBR');
    expect(both.authorizations).toEqual(['B']);
    expect(canonicalLabel(intersectClearance(agent, clearance('SECRET//NOFORN')).label)).toBe('SECRET');
  });

  it('never lets the pair read what either alone could not', () => {
    fc.assert(
      fc.property(
        arbLabel,
        arbLabel,
        arbLabel,
        fc.subarray(['A', 'B', 'C']),
        fc.subarray(['A', 'B', 'C']),
        (a, u, l, aa, ua) => {
          const agent = { label: a, authorizations: aa };
          const user = { label: u, authorizations: ua };
          const both = canRead(intersectClearance(agent, user), l);
          const each = canRead(agent, l) && canRead(user, l);
          if (both) expect(each).toBe(true);
          // Without a need-to-know expression the intersection is exact.
          if (l.access === undefined) expect(both).toBe(each);
        },
      ),
      { numRuns: 400 },
    );
  });
});

describe('coversClearance (one principal reads all another may)', () => {
  it('needs level, compartments, authorizations, and no extra nationality', () => {
    const us = clearance('TOP SECRET//SI', ['A', 'B']);
    expect(coversClearance(us, clearance('SECRET//SI', ['A']))).toBe(true);
    expect(coversClearance(clearance('SECRET'), clearance('SECRET//SI'))).toBe(false);
    expect(coversClearance(clearance('SECRET', ['A']), clearance('SECRET', ['A', 'B']))).toBe(false);
    // A British reader does not cover a U.S. person: the latter reads NOFORN.
    expect(coversClearance(clearance('TOP SECRET//REL TO USA, GBR'), clearance('SECRET'))).toBe(false);
    expect(coversClearance(clearance('SECRET'), clearance('SECRET//REL TO USA, GBR'))).toBe(true);
  });

  it('implies reading every label the other reads', () => {
    fc.assert(
      fc.property(
        arbLabel,
        arbLabel,
        arbLabel,
        fc.subarray(['A', 'B', 'C']),
        fc.subarray(['A', 'B', 'C']),
        (r, o, l, ra, oa) => {
          const reader = { label: r, authorizations: ra };
          const other = { label: o, authorizations: oa };
          if (coversClearance(reader, other) && canRead(other, l)) expect(canRead(reader, l)).toBe(true);
          expect(coversClearance(other, other)).toBe(true);
        },
      ),
      { numRuns: 400 },
    );
  });
});
