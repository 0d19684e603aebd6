import { describe, expect, it } from 'vitest';
import { parseBanner, parseCanonicalLabel, UNCLASSIFIED } from '../labels/index.js';
import type { ModelEndpoint } from '../providers/index.js';
import { accreditedFor } from './accreditation.js';

const endpoint = (over: Partial<ModelEndpoint>): ModelEndpoint => ({
  id: 'openai/x',
  provider: 'openai',
  model: 'x',
  contextWindow: 1000,
  timeoutMs: 1000,
  retries: 0,
  fallback: [],
  ...over,
});

describe('accreditedFor', () => {
  const secret = parseBanner('SECRET');
  it('allows an endpoint whose accreditation dominates the context', () => {
    expect(accreditedFor(secret)(endpoint({ accreditation: { label: 'SECRET', compartments: [] } }))).toBe(
      true,
    );
    expect(
      accreditedFor(UNCLASSIFIED)(endpoint({ accreditation: { label: 'SECRET', compartments: [] } })),
    ).toBe(true);
  });
  it('refuses above the accreditation, naming the range', () => {
    expect(
      accreditedFor(parseBanner('TOP SECRET'))(
        endpoint({ accreditation: { label: 'SECRET', compartments: [] } }),
      ),
    ).toMatch(/SECRET/);
    expect(
      accreditedFor(parseBanner('SECRET//SI'))(
        endpoint({ accreditation: { label: 'SECRET', compartments: [] } }),
      ),
    ).not.toBe(true);
    expect(
      accreditedFor(parseBanner('SECRET//SI'))(
        endpoint({ accreditation: { label: 'SECRET', compartments: ['SI'] } }),
      ),
    ).toBe(true);
  });
  it('treats a remote endpoint without accreditation as UNCLASSIFIED-only, the local model as unbounded', () => {
    expect(accreditedFor(UNCLASSIFIED)(endpoint({}))).toBe(true);
    expect(accreditedFor(secret)(endpoint({}))).not.toBe(true);
    expect(accreditedFor(parseBanner('TOP SECRET'))(endpoint({ provider: 'local', id: 'local/echo' }))).toBe(
      true,
    );
  });
  it('reads releasability like a clearance: NOFORN only to U.S. systems, REL TO to the nations named', () => {
    const us = endpoint({ accreditation: { label: 'SECRET', compartments: [] } });
    const uk = endpoint({ accreditation: { label: 'SECRET', compartments: [], releasableTo: ['GBR'] } });
    expect(accreditedFor(parseBanner('SECRET//NOFORN'))(us)).toBe(true);
    expect(accreditedFor(parseBanner('SECRET//NOFORN'))(uk)).toMatch(/REL TO USA, GBR/);
    expect(accreditedFor(parseBanner('SECRET//REL TO USA, FVEY'))(uk)).toBe(true);
    expect(accreditedFor(parseBanner('SECRET//REL TO USA, AUS'))(uk)).not.toBe(true);
    // ORCON travels with the data; it does not gate routing.
    expect(accreditedFor(parseBanner('SECRET//ORCON'))(us)).toBe(true);
  });
  it('needs authorizations that satisfy an access expression', () => {
    const ops = parseCanonicalLabel('SECRET ACCESS=OPS');
    expect(accreditedFor(ops)(endpoint({ accreditation: { label: 'SECRET', compartments: [] } }))).not.toBe(
      true,
    );
    expect(
      accreditedFor(ops)(
        endpoint({ accreditation: { label: 'SECRET', compartments: [], authorizations: ['OPS'] } }),
      ),
    ).toBe(true);
  });
});
