import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Label } from './label.js';
import { normalizeLabel } from './label.js';
import { parseBanner, parsePortion } from './marking-parse.js';
import { renderBanner, renderPortion } from './marking-render.js';
import { labelScheme } from './scheme.js';

/**
 * The rendering vectors of ODNI's ISM testConfig.xml. A vector applies when everything its attributes express
 * is in our model: US classification, SCI controls, SAP identifiers, dissemination controls and REL TO.
 * Authority-block attributes (classifiedBy, declassDate, …) do not change banner or portion, so those vectors
 * apply too (their authority lines are out of scope). Not modelled, hence skipped with the reason recorded:
 * non-US and joint classifications (ownerProducer ≠ USA), FGI source markings, atomic-energy markings
 * (RD/FRD/UCNI), DISPLAY ONLY, the obsolete EYES ONLY, and ACCM non-IC markings.
 */
const xml = readFileSync(
  new URL('../../../shared/datasets/markings/ism-testConfig.xml', import.meta.url),
  'utf8',
);

interface Vector {
  name: string;
  attrs: Record<string, string>;
  banner: string;
  portion: string | undefined;
}
const vectors: Vector[] = [...xml.matchAll(/<test [^>]*>([\s\S]*?)<\/test>/g)].map(([, body = '']) => ({
  name: /<name>(.*?)<\/name>/.exec(body)?.[1] ?? '',
  attrs: Object.fromEntries(
    [...(/<sampleAttributes([\s\S]*?)\/>/.exec(body)?.[1] ?? '').matchAll(/ism:(\w+)=(['"])(.*?)\2/g)].map(
      (m) => [m[1], m[3]],
    ),
  ),
  banner: /<banner[^>]*>(.*?)<\/banner>/.exec(body)?.[1] ?? '',
  portion: /<portion[^>]*>(.*?)<\/portion>/.exec(body)?.[1],
}));

const AUTHORITY = [
  'classifiedBy',
  'classificationReason',
  'declassException',
  'derivativelyClassifiedBy',
  'derivedFrom',
  'declassDate',
];
const LEVELS: Record<string, string> = {
  U: 'UNCLASSIFIED',
  C: 'CONFIDENTIAL',
  S: 'SECRET',
  TS: 'TOP SECRET',
};

function toLabel(attrs: Record<string, string>): Label | string {
  const list = (name: string): string[] => (attrs[name] ?? '').split(' ').filter(Boolean);
  if (attrs.ownerProducer !== 'USA') return 'non-US or joint classification';
  if (attrs.FGIsourceOpen) return 'FGI source marking';
  if (attrs.atomicEnergyMarkings) return 'atomic energy marking';
  if (attrs.nonICmarkings) return 'ACCM non-IC marking';
  const dissem = list('disseminationControls');
  if (dissem.includes('DISPLAYONLY')) return 'DISPLAY ONLY';
  if (dissem.includes('EYES')) return 'EYES ONLY';
  const known = [
    'classification',
    'ownerProducer',
    'SCIcontrols',
    'SARIdentifier',
    'disseminationControls',
    'releasableTo',
    ...AUTHORITY,
  ];
  const other = Object.keys(attrs).filter((k) => !known.includes(k));
  if (other.length > 0) throw new Error(`vector uses unmapped attributes ${other.join(', ')}`);
  return {
    level: LEVELS[attrs.classification ?? ''] ?? 'unknown',
    compartments: [...list('SCIcontrols'), ...list('SARIdentifier').map((s) => `SAR-${s}`)],
    controls: dissem
      .filter((d) => d !== 'REL')
      .map((d) => labelScheme().controlByPortion.get(d)?.name ?? `unmapped ${d}`),
    releasableTo: list('releasableTo'),
  };
}

const mapped = vectors.map((v) => ({ v, label: toLabel(v.attrs) }));
const applicable = mapped.filter((m): m is { v: Vector; label: Label } => typeof m.label !== 'string');

describe('ISM testConfig.xml banner and portion vectors', () => {
  it('reads all 57 vectors and applies the 24 within the model', () => {
    expect(vectors).toHaveLength(57);
    const reasons: Record<string, number> = {};
    for (const m of mapped) if (typeof m.label === 'string') reasons[m.label] = (reasons[m.label] ?? 0) + 1;
    expect(reasons).toEqual({
      'non-US or joint classification': 14,
      'FGI source marking': 1,
      'atomic energy marking': 13,
      'DISPLAY ONLY': 2,
      'EYES ONLY': 1,
      'ACCM non-IC marking': 2,
    });
    expect(applicable).toHaveLength(24);
  });

  it.each(applicable.map((m) => [m.v.name, m.v, m.label] as const))('%s', (_name, v, label) => {
    expect(renderBanner(label)).toBe(v.banner);
    expect(normalizeLabel(parseBanner(v.banner))).toEqual(normalizeLabel(label));
    if (v.portion !== undefined) {
      expect(`${renderPortion(label)} `).toBe(v.portion);
      expect(parsePortion(v.portion)).toEqual(parseBanner(v.banner));
    }
  });
});
