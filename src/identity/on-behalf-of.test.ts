import { describe, expect, it } from 'vitest';
import { canonicalLabel, parseBanner } from '../labels/index.js';
import { actOnBehalfOf } from './on-behalf-of.js';
import type { Principal } from './principal.js';

const who = (over: Partial<Principal>): Principal => ({
  tenantId: 't',
  subject: 'key_a',
  role: 'user',
  clearance: canonicalLabel(parseBanner('SECRET')),
  authorizations: [],
  via: 'api_key',
  ...over,
});

describe('actOnBehalfOf', () => {
  it('runs as the agent with the intersection of both clearances', () => {
    const agent = who({ clearance: 'TOP SECRET//SI//NOFORN', authorizations: ['A', 'B'] });
    const user = who({
      subject: 'alice',
      via: 'oidc',
      clearance: 'SECRET//REL TO USA, GBR',
      authorizations: ['B'],
    });
    expect(actOnBehalfOf(agent, user)).toEqual({
      principal: {
        ...agent,
        clearance: 'SECRET//REL TO USA, GBR',
        authorizations: ['B'],
        onBehalfOf: 'oidc:alice',
      },
    });
  });
  it('refuses roles other than user, other tenants, the same credential and nesting', () => {
    const user = who({ subject: 'key_u' });
    expect(actOnBehalfOf(who({ role: 'admin' }), user)).toEqual({ denied: 'agent_role' });
    expect(actOnBehalfOf(who({}), who({ subject: 'key_u', role: 'reviewer' }))).toEqual({
      denied: 'user_role',
    });
    expect(actOnBehalfOf(who({}), who({ subject: 'key_u', tenantId: 'other' }))).toEqual({
      denied: 'tenant_mismatch',
    });
    expect(actOnBehalfOf(who({}), who({}))).toEqual({ denied: 'self' });
    expect(actOnBehalfOf(who({ onBehalfOf: 'key:x' }), user)).toEqual({ denied: 'nested' });
  });
});
