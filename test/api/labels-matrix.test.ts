import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engines } from '../support/stores.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { auditEntries, classified, statusOf } from './labels-support.js';

/**
 * The principal × label matrix through HTTP with the official client, on every engine: read (GET), list
 * (conversation items, input_items), chain (previous_response_id / conversation) and write (no write down).
 * Expectations are written out by hand from the rules in docs/labels.md, not computed by src/labels.
 */
const LABELS = {
  U: 'UNCLASSIFIED',
  S: 'SECRET',
  SI: 'SECRET//SI',
  TS: 'TOP SECRET//SI//NOFORN',
  REL: 'SECRET//REL TO USA, GBR',
  NF: 'SECRET//NOFORN',
  OPS: 'SECRET ACCESS=OPS',
  OPSHUM: 'SECRET ACCESS=HUMINT&OPS',
} as const;
type Obj = keyof typeof LABELS;
const OBJECTS = Object.keys(LABELS) as Obj[];

const PRINCIPALS = {
  u: { clearance: 'UNCLASSIFIED', authorizations: [] },
  s: { clearance: 'SECRET', authorizations: [] },
  ssi: { clearance: 'SECRET//SI', authorizations: [] },
  ts: { clearance: 'TOP SECRET//SI//NOFORN', authorizations: ['OPS', 'HUMINT'] },
  gbr: { clearance: 'SECRET//REL TO USA, GBR', authorizations: [] },
  ntk: { clearance: 'SECRET', authorizations: ['OPS'] },
} as const;
/**
 * Agents acting for users (`Enclave-On-Behalf-Of`): each reads and writes with the intersection of its own and
 * the user's clearance, never more than the user — through every dimension of the matrix.
 */
const AGENTS = {
  /** TS//SI//NOFORN agent with OPS and HUMINT, for the SECRET user with OPS: SECRET, U.S. reader, OPS. */
  agTsForNtk: { clearance: 'TOP SECRET//SI//NOFORN', authorizations: ['OPS', 'HUMINT'], user: 'ntk' },
  /** SECRET//SI agent for the British SECRET reader: SECRET without SI, released to both USA and GBR. */
  agSiForGbr: { clearance: 'SECRET//SI', authorizations: [], user: 'gbr' },
} as const;
type Who = keyof typeof PRINCIPALS | keyof typeof AGENTS;
const EVERYONE = [...Object.keys(PRINCIPALS), ...Object.keys(AGENTS)] as Who[];

/** What each principal may read. */
const READS: Record<Who, Obj[]> = {
  u: ['U'],
  s: ['U', 'S', 'REL', 'NF'],
  ssi: ['U', 'S', 'SI', 'REL', 'NF'],
  ts: ['U', 'S', 'SI', 'TS', 'REL', 'NF', 'OPS', 'OPSHUM'],
  gbr: ['U', 'S', 'REL'],
  ntk: ['U', 'S', 'REL', 'NF', 'OPS'],
  agTsForNtk: ['U', 'S', 'REL', 'NF', 'OPS'],
  agSiForGbr: ['U', 'S', 'REL'],
};
/** Which readable conversations a principal may append unlabelled items to (they take its clearance). */
const WRITES: Record<Who, Obj[]> = {
  u: ['U'],
  s: ['S', 'REL', 'NF'],
  ssi: ['SI'],
  ts: ['TS'],
  gbr: ['REL'],
  ntk: ['S', 'REL', 'NF', 'OPS'],
  agTsForNtk: ['S', 'REL', 'NF', 'OPS'],
  agSiForGbr: ['REL'],
};

for (const engine of engines) {
  describe(`principal × label matrix over HTTP [${engine}]`, () => {
    let server: TestServer;
    const clients = {} as Record<Who, OpenAI>;
    const keys = {} as Record<Who, string>;
    const conv = {} as Record<Obj, string>;
    const resp = {} as Record<Obj, string>;
    const client = (apiKey: string, headers: Record<string, string> = {}) =>
      new OpenAI({
        baseURL: `${server.baseUrl}/v1`,
        apiKey,
        maxRetries: 0,
        defaultHeaders: headers,
      });

    beforeAll(async () => {
      server = await startTestServer({ engine });
      for (const [who, p] of Object.entries(PRINCIPALS) as [
        Who,
        (typeof PRINCIPALS)[keyof typeof PRINCIPALS],
      ][]) {
        keys[who] = await server.key({ clearance: p.clearance, authorizations: [...p.authorizations] });
        clients[who] = client(keys[who]);
      }
      for (const [who, a] of Object.entries(AGENTS) as [Who, (typeof AGENTS)[keyof typeof AGENTS]][]) {
        keys[who] = await server.key({ clearance: a.clearance, authorizations: [...a.authorizations] });
        clients[who] = client(keys[who], { 'Enclave-On-Behalf-Of': keys[a.user] });
      }
      const creator = client(
        await server.key({ clearance: 'TOP SECRET//SI', authorizations: ['OPS', 'HUMINT'] }),
      );
      for (const obj of OBJECTS) {
        const c = await creator.conversations.create(
          {
            items: [{ type: 'message', role: 'user', content: `item of ${obj}` }],
            metadata: { title: `t-${obj}` },
          },
          classified(LABELS[obj]),
        );
        conv[obj] = c.id;
        const r = await creator.responses.create(
          { model: 'local/echo', input: `input of ${obj}` },
          classified(LABELS[obj]),
        );
        resp[obj] = r.id;
      }
    }, 60_000);
    afterAll(async () => server.close());

    it('read: an object is visible exactly when the clearance covers its label, else 404', async () => {
      for (const who of EVERYONE) {
        for (const obj of OBJECTS) {
          const expected = READS[who].includes(obj) ? 200 : 404;
          const c = clients[who];
          expect([who, obj, await statusOf(c.conversations.retrieve(conv[obj]))]).toEqual([
            who,
            obj,
            expected,
          ]);
          expect([who, obj, await statusOf(c.responses.retrieve(resp[obj]))]).toEqual([who, obj, expected]);
        }
      }
    }, 60_000);

    it('list: items and input_items of a visible object; a hidden one is a 404 with no count or title', async () => {
      for (const who of EVERYONE) {
        for (const obj of OBJECTS) {
          const c = clients[who];
          if (READS[who].includes(obj)) {
            const items = await c.conversations.items.list(conv[obj]);
            expect(items.data).toHaveLength(1);
            const inputs = await c.responses.inputItems.list(resp[obj]);
            expect(inputs.data).toHaveLength(1);
          } else {
            const hidden = await c.conversations.items.list(conv[obj]).catch((e: unknown) => e);
            expect(hidden).toMatchObject({ status: 404 });
            expect(JSON.stringify((hidden as { error: unknown }).error)).not.toMatch(
              /t-|item of|count|\d+ item/,
            );
            expect(await statusOf(c.responses.inputItems.list(resp[obj]))).toBe(404);
          }
        }
      }
    }, 60_000);

    it('chain: previous_response_id or conversation to a higher object is a 404', async () => {
      for (const who of ['u', 's', 'gbr', 'ntk', 'agTsForNtk', 'agSiForGbr'] as Who[]) {
        for (const obj of OBJECTS) {
          const visible = READS[who].includes(obj);
          const chained = clients[who].responses.create({
            model: 'local/echo',
            input: 'go on',
            previous_response_id: resp[obj],
          });
          expect([who, obj, await statusOf(chained)]).toEqual([who, obj, visible ? 200 : 404]);
        }
      }
      // Into a hidden conversation: 404 too, whatever the request label.
      const intoHidden = clients.s.responses.create(
        { model: 'local/echo', input: 'x', conversation: conv.TS },
        classified('UNCLASSIFIED'),
      );
      expect(await statusOf(intoHidden)).toBe(404);
    }, 120_000);

    it('write: no write down (403) into a lower readable conversation, 404 into a hidden one', async () => {
      for (const who of EVERYONE) {
        for (const obj of OBJECTS) {
          const expected = !READS[who].includes(obj) ? 404 : WRITES[who].includes(obj) ? 200 : 403;
          const write = clients[who].conversations.items.create(conv[obj], {
            items: [{ type: 'message', role: 'user', content: `${who} writes` }],
          });
          expect([who, obj, await statusOf(write)]).toEqual([who, obj, expected]);
        }
      }
    }, 60_000);

    it('records each decision: a denied read names the rule, the object and its label; writes and model calls too', async () => {
      await statusOf(clients.u.responses.retrieve(resp.TS));
      await statusOf(clients.u.responses.retrieve('resp_does_not_exist'));
      await statusOf(
        clients.s.conversations.items.create(
          conv.S,
          { items: [{ role: 'user', content: 'x' }] },
          classified('SECRET//NOFORN'),
        ),
      );
      const entries = await auditEntries(server);
      expect(entries).toContainEqual(
        expect.objectContaining({
          type: 'access.deny',
          rule: 'mac.no_read_up',
          objectId: resp.TS,
          objectLabel: 'TOP SECRET//SI//NOFORN',
          sessionLabel: 'UNCLASSIFIED',
          decision: 'deny',
        }),
      );
      expect(entries).toContainEqual(
        expect.objectContaining({ type: 'access.deny', rule: 'not_found', objectId: 'resp_does_not_exist' }),
      );
      expect(entries).toContainEqual(
        expect.objectContaining({
          type: 'access.deny',
          rule: 'mac.no_write_down',
          objectId: conv.S,
          objectLabel: 'SECRET',
          sessionLabel: 'SECRET//NOFORN',
        }),
      );
      expect(entries).toContainEqual(
        expect.objectContaining({
          type: 'access.allow',
          rule: 'mac.read',
          objectId: resp.U,
          objectLabel: 'UNCLASSIFIED',
        }),
      );
      const call = entries.find((e) => e.type === 'model.call' && e.objectId === resp.S);
      expect(call).toMatchObject({
        endpoint: 'local/echo',
        label: 'SECRET',
        detail: {
          model: 'echo',
          provider: 'local',
          promptSha256: expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
          usage: { input_tokens: expect.any(Number), output_tokens: expect.any(Number) },
          latencyMs: expect.any(Number),
        },
      });
      // Prompt text never reaches the log.
      expect(JSON.stringify(entries)).not.toContain('input of S');
    });
  });
}
