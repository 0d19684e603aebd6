import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../../src/identity/api-keys.js';
import { canonicalLabel, parseBanner } from '../../src/labels/index.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { engines } from '../support/stores.js';
import { classified } from './labels-support.js';

const canonical = (banner: string) => canonicalLabel(parseBanner(banner));
const labelOf = (x: unknown) => (x as { label: string }).label;

/** A request without `Enclave-Classification` takes the key's configured default label — never "none". */
for (const engine of engines) {
  describe(`the principal's configured default label [${engine}]`, () => {
    let server: TestServer;
    let withDefault: string;
    const make = (o: { clearance: string; defaultLabel?: string; name: string }) =>
      createApiKey(server.services.store, server.services.serverSecret, {
        tenantId: 'tenant-a',
        name: o.name,
        role: 'user',
        clearance: canonical(o.clearance),
        ...(o.defaultLabel ? { defaultLabel: canonical(o.defaultLabel) } : {}),
      });

    beforeAll(async () => {
      server = await startTestServer({ engine });
      withDefault = (await make({ clearance: 'SECRET', defaultLabel: 'CONFIDENTIAL', name: 'analyst' })).key;
    });
    afterAll(async () => server.close());

    it('labels unlabelled requests with the default, labelled ones with their header', async () => {
      const client = new OpenAI({ baseURL: `${server.baseUrl}/v1`, apiKey: withDefault, maxRetries: 0 });
      expect(labelOf(await client.responses.create({ model: 'local/echo', input: 'plain' }))).toBe(
        'CONFIDENTIAL',
      );
      expect(labelOf(await client.conversations.create({}))).toBe('CONFIDENTIAL');
      const high = await client.responses.create({ model: 'local/echo', input: 'x' }, classified('SECRET'));
      expect(labelOf(high)).toBe('SECRET');
      const me = await fetch(`${server.baseUrl}/v1/me`, {
        headers: { authorization: `Bearer ${withDefault}` },
      });
      expect(await me.json()).toMatchObject({ clearance: 'SECRET', default_label: 'CONFIDENTIAL' });
      // Without a default, the clearance (system-high).
      const plain = (await make({ clearance: 'SECRET', name: 'plain' })).key;
      const c2 = new OpenAI({ baseURL: `${server.baseUrl}/v1`, apiKey: plain, maxRetries: 0 });
      expect(labelOf(await c2.responses.create({ model: 'local/echo', input: 'x' }))).toBe('SECRET');
    });

    it('refuses a default above the clearance, and does not carry an agent’s default to the user it acts for', async () => {
      await expect(
        make({ clearance: 'CONFIDENTIAL', defaultLabel: 'SECRET', name: 'bad' }),
      ).rejects.toMatchObject({
        code: 'invalid_label',
      });
      const agent = (await make({ clearance: 'SECRET', defaultLabel: 'UNCLASSIFIED', name: 'agent' })).key;
      const user = (await make({ clearance: 'CONFIDENTIAL', name: 'user' })).key;
      const acting = new OpenAI({
        baseURL: `${server.baseUrl}/v1`,
        apiKey: agent,
        maxRetries: 0,
        defaultHeaders: { 'Enclave-On-Behalf-Of': user },
      });
      // The pair's unlabelled request is the intersection (CONFIDENTIAL), not the agent's own UNCLASSIFIED default.
      expect(labelOf(await acting.responses.create({ model: 'local/echo', input: 'x' }))).toBe(
        'CONFIDENTIAL',
      );
    });
  });
}
