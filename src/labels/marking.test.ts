import { afterEach, describe, expect, it } from 'vitest';
import { EnclaveError } from '../errors/index.js';
import { canonicalLabel, parseCanonicalLabel } from './canonical.js';
import { normalizeLabel } from './label.js';
import { parseBanner, parsePortion } from './marking-parse.js';
import { renderBanner, renderPortion } from './marking-render.js';
import { createLabelScheme, setLabelScheme, UNCLASSIFIED } from './index.js';

function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(EnclaveError);
    expect((error as EnclaveError).code).toBe('invalid_label');
    return (error as EnclaveError).message;
  }
  throw new Error('expected a refusal');
}

describe('markings', () => {
  it('parses and renders banners and portions', () => {
    const label = parseBanner('SECRET//SI//NOFORN');
    expect(label).toEqual({ level: 'SECRET', compartments: ['SI'], controls: ['NOFORN'], releasableTo: [] });
    expect(renderPortion(label)).toBe('(S//SI//NF)');
    expect(parsePortion('(S//NF)')).toEqual(parseBanner('SECRET//NOFORN'));
    expect(renderBanner(parsePortion('(TS//SI/TK//OC/REL TO USA, GBR//DS)'))).toBe(
      'TOP SECRET//SI/TK//ORCON/REL TO USA, GBR//LIMDIS',
    );
    expect(renderBanner(parsePortion('(CUI)'))).toBe('CUI');
  });

  it('expands tetragraphs, orders REL TO, and reads REL TO USA alone as NOFORN', () => {
    const label = parseBanner('SECRET//REL TO FVEY');
    expect(label.releasableTo).toEqual(['AUS', 'CAN', 'GBR', 'NZL', 'USA']);
    expect(renderBanner(label)).toBe('SECRET//REL TO USA, AUS, CAN, GBR, NZL');
    expect(renderBanner(parseBanner('SECRET//REL TO NATO, GBR, USA'))).toBe('SECRET//REL TO USA, GBR, NATO');
    expect(renderBanner(parseBanner('SECRET//REL TO USA'))).toBe('SECRET//NOFORN');
    expect(parseBanner('SECRET//REL TO USA, ACGU').releasableTo).toEqual(['AUS', 'CAN', 'GBR', 'USA']);
    expect(parseBanner('SECRET//REL TO USA, TEYE').releasableTo).toEqual(['AUS', 'GBR', 'USA']);
  });

  it.each([
    ['SECRET//NOFORN/REL TO USA, GBR', /NOFORN and REL TO cannot be combined/],
    ['SECRET//REL TO GBR, AUS', /must include USA/],
    ['SECRET//REL TO USA, XYZ', /unknown country or tetragraph 'XYZ'/],
    ['SECRET//REL TO USA,, GBR', /malformed REL TO/],
    ['SECRET//NOFORN/RELIDO', /RELIDO cannot be combined with NOFORN/],
    ['SECRET//FOUO', /FOUO applies only at UNCLASSIFIED/],
    ['UNCLASSIFIED//SI', /compartments need CONFIDENTIAL/],
    ['SECRET//NOFORN//SI', /out of order/],
    ['SECRET//SAR-ABC//SI', /out of order/],
    ['SECRET//SI//SI', /out of order/],
    ['SECRET//LIMDIS//NOFORN', /out of order/],
    ['SECRET//ORCON/LIMDIS', /mixes dissemination and non-IC/],
    ['SECRET//NOFORN/NOFORN', /appears twice/],
    ['SECRET//XYZ', /unknown marking 'XYZ'/],
    ['SECRET//NF', /unknown marking 'NF'.*in a banner write NOFORN/],
    ['S//NOFORN', /unknown classification 'S'.*in a banner write SECRET/],
    ['secret', /unknown classification 'secret'/],
    ['SECRET//', /empty category/],
    ['SECRET////NOFORN', /empty category/],
    ['SECRET//SI-', /malformed compartment/],
    ['SECRET//SI-g', /malformed compartment/],
    ['//NATO SECRET', /non-US or joint/],
    ['SECRET\n//NOFORN', /control character/],
    ['SECRET\u0000', /control character/],
    ['SECRÉT', /non-ASCII/],
    ['', /empty marking/],
    [`SECRET//${'SI/'.repeat(400)}TK`, /longer than 1024/],
  ])('refuses banner %j', (text, why) => {
    expect(refusal(() => parseBanner(text))).toMatch(why);
  });

  it.each([
    ['S//NF', /parentheses/],
    ['(S//NOFORN)', /in a portion write NF/],
    ['(SECRET)', /in a portion write S/],
    ['(S//SI-G ABCD//OC//NF)', /out of order/],
  ])('refuses portion %j', (text, why) => {
    expect(refusal(() => parsePortion(text))).toMatch(why);
  });

  it('refuses invalid label objects too', () => {
    expect(
      refusal(() =>
        normalizeLabel({ level: 'SECRET', compartments: ['ZZ'], controls: [], releasableTo: [] }),
      ),
    ).toMatch(/unknown compartment 'ZZ'/);
    expect(
      refusal(() => normalizeLabel({ level: 'HUSH', compartments: [], controls: [], releasableTo: [] })),
    ).toMatch(/unknown level/);
    expect(
      refusal(() =>
        normalizeLabel({ level: 'SECRET', compartments: [], controls: ['REL TO'], releasableTo: [] }),
      ),
    ).toMatch(/unknown dissemination control/);
  });
});

describe('canonical form', () => {
  it('is the canonical banner plus an optional normalized access expression', () => {
    const label = parseCanonicalLabel('SECRET//SI//NOFORN ACCESS=(C|B)&A');
    expect(label.access).toBe('A&(B|C)');
    expect(canonicalLabel(label)).toBe('SECRET//SI//NOFORN ACCESS=A&(B|C)');
    expect(canonicalLabel(parseCanonicalLabel('SECRET ACCESS='))).toBe('SECRET');
    expect(canonicalLabel(UNCLASSIFIED)).toBe('UNCLASSIFIED');
    expect(
      canonicalLabel({ level: 'SECRET', compartments: ['SI-G-ABCD'], controls: [], releasableTo: [] }),
    ).toBe('SECRET//SI-G ABCD');
    expect(refusal(() => parseCanonicalLabel('SECRET ACCESS=A&'))).toMatch(/Invalid access expression/);
    expect(refusal(() => parseCanonicalLabel('SECRET ACCESS=A|B&C'))).toMatch(/cannot be mixed/);
  });
});

describe('configurable scheme', () => {
  afterEach(() => setLabelScheme(createLabelScheme()));

  it('uses configured levels and updates UNCLASSIFIED', () => {
    setLabelScheme(
      createLabelScheme({
        levels: [
          { name: 'PUBLIC', portion: 'P' },
          { name: 'INTERNAL', portion: 'I' },
          { name: 'RESTRICTED', portion: 'R' },
        ],
        classifiedFrom: 'RESTRICTED',
        sciControls: ['ALPHA'],
      }),
    );
    expect(UNCLASSIFIED.level).toBe('PUBLIC');
    expect(renderPortion(parseBanner('RESTRICTED//ALPHA-X//NOFORN'))).toBe('(R//ALPHA-X//NF)');
    expect(refusal(() => parseBanner('SECRET'))).toMatch(/unknown classification/);
    expect(refusal(() => parseBanner('INTERNAL//ALPHA'))).toMatch(/need RESTRICTED or higher/);
    expect(() => parseBanner('SECRET//SI')).toThrow(EnclaveError);
  });

  it('forgets memoized labels and markings when the scheme changes', () => {
    // The same frozen label object is normalized, rendered and made canonical again after a scheme change.
    const label = parseBanner('SECRET//NOFORN');
    expect(normalizeLabel(label)).toBe(normalizeLabel(label));
    expect(canonicalLabel(label)).toBe('SECRET//NOFORN');
    expect(renderPortion(label)).toBe('(S//NF)');
    setLabelScheme(
      createLabelScheme({
        levels: [
          { name: 'UNCLASSIFIED', portion: 'U' },
          { name: 'CONFIDENTIAL', portion: 'C' },
          { name: 'SECRET', portion: 'SX' },
        ],
      }),
    );
    expect(renderPortion(label)).toBe('(SX//NF)');
    expect(canonicalLabel(label)).toBe('SECRET//NOFORN');
    setLabelScheme(createLabelScheme());
    expect(renderPortion(label)).toBe('(S//NF)');
  });

  it('refuses a bad configuration with the path to fix', () => {
    expect(() => createLabelScheme({ controls: [{ name: 'ORCON', portion: 'OC' }] })).toThrow(
      /NOFORN and the REL TO marker/,
    );
    expect(() =>
      createLabelScheme({
        levels: [
          { name: 'A', portion: 'X' },
          { name: 'B', portion: 'X' },
        ],
      }),
    ).toThrow(/used twice/);
    expect(() => createLabelScheme({ sciControls: ['si'] })).toThrow(/Invalid config at labels/);
  });
});
