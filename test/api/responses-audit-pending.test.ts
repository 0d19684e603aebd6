import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEntry } from '../../src/audit/index.js';
import { startMockOpenAI, type MockOpenAI } from '../support/mock-openai.js';
import { detailOf, loggedEntries, refusingAudit } from '../support/refusing-audit.js';
import { engines } from '../support/stores.js';
import { startTestServer, type TestServer } from '../support/server.js';

const MODEL = 'openai/mock-1';

/**
 * A turn holds its audit entries and commits them together (src/runtime/pending-audit.ts): the first commit
 * before the model is contacted, the rest with the turn's rows. These prove it stays fail-closed and complete:
 * every decision of a stored chained turn is in the log, in order; when an entry cannot be recorded the model
 * is not contacted (auth, chain read) or the turn is not stored (output verdict, model call); when the first
 * commit cannot be made durable nothing is answered; and the client gets 503 `audit_unavailable`.
 */
// On both engines: the turn's transactions carry its entries (PostgreSQL: under the head's row lock).
for (const engine of engines)
  describe(`audit entries a turn commits together [${engine}]`, () => {
    let mock: MockOpenAI;
    let server: TestServer;
    let client: OpenAI;

    beforeAll(async () => {
      mock = await startMockOpenAI();
      server = await startTestServer({
        engine,
        configFile: { models: { endpoints: [{ id: MODEL, baseUrl: mock.url }] } },
      });
      client = new OpenAI({ baseURL: `${server.baseUrl}/v1`, apiKey: await server.key(), maxRetries: 0 });
    });
    afterAll(async () => {
      await server.close();
      await mock.close();
    });

    const logged = () => loggedEntries(server.services.store);
    /** Makes the audit log refuse the entries `refuse` picks while `fn` runs. */
    const refusing = <T>(refuse: (entry: AuditEntry) => boolean, fn: () => Promise<T>): Promise<T> =>
      refusingAudit(server.services.audit, refuse, fn);

    it('records every decision of a stored chained turn, in order', async () => {
      const first = await client.responses.create({ model: MODEL, input: 'first turn' });
      const before = (await logged()).length;
      const second = await client.responses.create({
        model: MODEL,
        input: 'second turn',
        previous_response_id: first.id,
      });
      expect(second.status).toBe('completed');
      const turn = (await logged()).slice(before).map((e) => ({
        type: e.type,
        rule: e.rule,
        objectId: e.objectId,
        action: e.detail?.action,
        surface: e.detail?.surface,
      }));
      expect(turn).toEqual([
        expect.objectContaining({ type: 'auth.ok' }),
        { type: 'access.allow', rule: 'mac.read', objectId: first.id, action: 'chain', surface: undefined },
        expect.objectContaining({ type: 'safety.verdict', surface: 'input' }),
        expect.objectContaining({ type: 'model.call', objectId: second.id }),
        expect.objectContaining({ type: 'safety.verdict', surface: 'output', objectId: second.id }),
        { type: 'access.allow', rule: 'mac.write', objectId: second.id, action: 'write', surface: undefined },
      ]);
    });

    it('does not contact the model when the chain read cannot be recorded', async () => {
      const first = await client.responses.create({ model: MODEL, input: 'to chain from' });
      const sent = mock.chatRequests().length;
      const failed = await refusing(
        (e) => e.type === 'access.allow' && detailOf(e).action === 'chain',
        () =>
          client.responses
            .create({ model: MODEL, input: 'unrecorded read', previous_response_id: first.id })
            .catch((e: unknown) => e),
      );
      expect(failed).toMatchObject({ status: 503, error: { code: 'audit_unavailable' } });
      expect(mock.chatRequests().length).toBe(sent);
    });

    it('answers 503 and stores nothing when the first commit cannot be made durable (non-stream and stream)', async () => {
      // The entries commit before the model is contacted; their fsync runs while it starts, and the turn answers
      // nothing until it is done. Here it fails: the model was contacted, the client learns nothing of it.
      const first = await client.responses.create({ model: MODEL, input: 'chain root for fsync' });
      const chainRead = (e: AuditEntry) => e.type === 'access.allow' && detailOf(e).action === 'chain';
      for (const stream of [false, true]) {
        const sent = mock.chatRequests().length;
        const before = (await logged()).length;
        const failed = await refusingAudit(
          server.services.audit,
          chainRead,
          () =>
            client.responses
              .create({ model: MODEL, input: 'not durable', previous_response_id: first.id, stream })
              .catch((e: unknown) => e),
          'durable',
        );
        expect(failed).toMatchObject({ status: 503, error: { code: 'audit_unavailable' } });
        expect(mock.chatRequests().length).toBe(sent + 1);
        // The opened model call was closed and recorded as abandoned; no response or write was stored.
        const after = (await logged()).slice(before);
        expect(after.filter((e) => e.type === 'model.call').map((e) => e.detail)).toEqual([
          expect.objectContaining({ status: 'abandoned' }),
        ]);
        expect(after.some((e) => e.type === 'access.allow' && e.detail?.action === 'write')).toBe(false);
      }
    });

    it("does not contact the model when the request's auth entry cannot be recorded (non-stream and stream)", async () => {
      const first = await client.responses.create({ model: MODEL, input: 'chain root' });
      const sent = mock.chatRequests().length;
      const authOk = (e: AuditEntry) => e.type === 'auth.ok';
      for (const stream of [false, true]) {
        const failed = await refusing(authOk, () =>
          client.responses
            .create({ model: MODEL, input: 'unaudited caller', previous_response_id: first.id, stream })
            .catch((e: unknown) => e),
        );
        expect(failed).toMatchObject({ status: 503, error: { code: 'audit_unavailable' } });
      }
      // A route that does not join the auth entry to a turn waits for it up front, as before.
      const read = await refusing(authOk, () => client.responses.retrieve(first.id).catch((e: unknown) => e));
      expect(read).toMatchObject({ status: 503, error: { code: 'audit_unavailable' } });
      expect(mock.chatRequests().length).toBe(sent);
      // The same caller goes through once the log commits again.
      const after = await client.responses.create({ model: MODEL, input: 'audited again' });
      expect(after.status).toBe('completed');
    });

    it('records the auth entry of a request whose body is refused before the turn runs, or answers 503', async () => {
      const key = await server.key();
      const post = (body: string, requestId: string) =>
        fetch(`${server.baseUrl}/v1/responses`, {
          method: 'POST',
          headers: {
            authorization: `Bearer ${key}`,
            'content-type': 'application/json',
            'x-request-id': requestId,
          },
          body,
        });
      const refused = await post('{"model": "openai/mock-1", "input": ', 'req_bad_json_1');
      expect(refused.status).toBe(400);
      expect(await refused.json()).toMatchObject({ error: { code: 'invalid_json' } });
      const entries = await logged();
      expect(
        entries.filter((e) => e.type === 'auth.ok' && e.detail?.requestId === 'req_bad_json_1'),
      ).toHaveLength(1);
      // The entry cannot be recorded: the refusal is not sent either, the client learns the audit failed.
      const unrecorded = await refusingAudit(
        server.services.audit,
        (e) => e.type === 'auth.ok',
        () => post('not json', 'req_bad_json_2'),
      );
      expect(unrecorded.status).toBe(503);
      expect(await unrecorded.json()).toMatchObject({ error: { code: 'audit_unavailable' } });
    });

    it('stores nothing of a turn whose output verdict cannot be recorded (non-stream and stream)', async () => {
      const conversation = await client.conversations.create({});
      const outputVerdict = (e: AuditEntry) =>
        e.type === 'safety.verdict' && detailOf(e).surface === 'output';
      const failed = await refusing(outputVerdict, () =>
        client.responses
          .create({ model: MODEL, input: 'unrecorded answer', conversation: conversation.id })
          .catch((e: unknown) => e),
      );
      expect(failed).toMatchObject({ status: 503, error: { code: 'audit_unavailable' } });

      const events = await refusing(outputVerdict, async () => {
        const stream = await client.responses.create({
          model: MODEL,
          input: 'unrecorded streamed answer',
          conversation: conversation.id,
          stream: true,
        });
        const seen: { type: string; response?: { status?: string; error?: { code?: string } | null } }[] = [];
        for await (const event of stream) seen.push(event as (typeof seen)[number]);
        return seen;
      });
      expect(events.at(-1)).toMatchObject({
        type: 'response.failed',
        response: { status: 'failed', error: { code: 'audit_unavailable' } },
      });
      expect((await client.conversations.items.list(conversation.id)).data).toEqual([]);
    });
  });
