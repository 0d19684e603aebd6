import fc from 'fast-check';
import { normalizeLabel, type Label } from '../../src/labels/label.js';

/** Valid labels of the default scheme (src/labels property tests), for property tests (invalid combinations are filtered out). */
const LEVELS = ['UNCLASSIFIED', 'CUI', 'CONFIDENTIAL', 'SECRET', 'TOP SECRET'];
const COMPARTMENTS = ['SI', 'SI-G', 'SI-G-ABCD', 'TK', 'HCS', 'RSV-ABC', 'SAR-ABC', 'SAR-PROM_TUX-JR-A16'];
const CONTROLS = ['ORCON', 'PROPIN', 'IMCON', 'RSEN', 'FISA', 'LIMDIS', 'RELIDO', 'FOUO', 'SBU'];
const COUNTRIES = ['AUS', 'CAN', 'GBR', 'NZL', 'DEU', 'NATO'];
const ACCESS = ['A', 'B', 'C', 'A&B', 'A|B', 'A&(B|C)', '(A&B)|C', '"x y"|C', 'B&C'];

const build = (
  level: number,
  compartments: string[],
  controls: string[],
  rel: 'none' | 'noforn' | string[],
  access: string | null,
): Label | null => {
  const label: Label = {
    level: LEVELS[level] ?? 'UNCLASSIFIED',
    compartments: level >= 2 ? compartments : [],
    controls: [
      ...controls.filter((c) => level === 0 || (c !== 'FOUO' && c !== 'SBU')),
      ...(rel === 'noforn' ? ['NOFORN'] : []),
    ],
    releasableTo: Array.isArray(rel) ? ['USA', ...rel] : [],
  };
  if (access !== null) label.access = access;
  try {
    return normalizeLabel(label);
  } catch {
    return null;
  }
};

export const arbLabel: fc.Arbitrary<Label> = fc
  .tuple(
    fc.integer({ min: 0, max: LEVELS.length - 1 }),
    fc.subarray(COMPARTMENTS),
    fc.subarray(CONTROLS, { maxLength: 3 }),
    fc.oneof(
      fc.constant('none' as const),
      fc.constant('noforn' as const),
      fc.subarray(COUNTRIES, { minLength: 1 }),
    ),
    fc.option(fc.constantFrom(...ACCESS), { nil: null, freq: 2 }),
  )
  .map(([l, c, d, r, a]) => build(l, c, d, r, a))
  .filter((x): x is Label => x !== null);
