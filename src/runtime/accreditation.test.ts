import { describe, expect, it } from 'vitest';
import { parseBanner, UNCLASSIFIED } from '../labels/index.js';
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
});
