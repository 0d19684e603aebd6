import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMockOpenAI, type MockOpenAI } from '../support/mock-openai.js';
import { refusingAudit } from '../support/refusing-audit.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { auditEntries, classified, statusOf } from './labels-support.js';

/**
 * Accredited routing, proven with upstreams that count what they receive: an endpoint not accredited for the
 * context label (request, history, tool output) gets no request at all; the next accredited endpoint of the
 * fallback list answers, or the turn is a 403 `not_accredited` that says why. And the audit fails closed.
 */
describe('accredited routing and fail-closed audit of model calls', () => {
  let server: TestServer;
  let publicMock: MockOpenAI;
  let usMock: MockOpenAI;
  let ukMock: MockOpenAI;
  let opsMock: MockOpenAI;
  let ts: OpenAI;
  let gbr: OpenAI;
  const counts = () => ({
    public: publicMock.chatRequests().length,
    us: usMock.chatRequests().length,
    uk: ukMock.chatRequests().length,
    ops: opsMock.chatRequests().length,
  });
  const label = (r: unknown) => (r as { label: string }).label;

  beforeAll(async () => {
    [publicMock, usMock, ukMock, opsMock] = await Promise.all([
      startMockOpenAI(),
      startMockOpenAI(),
      startMockOpenAI(),
      startMockOpenAI(),
    ]);
    server = await startTestServer({
      configFile: {
        models: {
          endpoints: [
            // No accreditation: UNCLASSIFIED only; falls back to the U.S. SECRET system.
            { id: 'openai/public', baseUrl: publicMock.url, fallback: ['openai/us-secret'] },
            { id: 'openai/us-secret', baseUrl: usMock.url, accreditation: { label: 'SECRET//SI' } },
            {
              id: 'openai/uk-secret',
              baseUrl: ukMock.url,
              accreditation: { label: 'SECRET', releasableTo: ['GBR'] },
            },
            {
              id: 'openai/ops',
              baseUrl: opsMock.url,
              accreditation: { label: 'SECRET', authorizations: ['OPS'] },
            },
          ],
        },
      },
    });
    const client = async (clearance: string, authorizations: string[] = []) =>
      new OpenAI({
        baseURL: `${server.baseUrl}/v1`,
        apiKey: await server.key({ clearance, authorizations }),
        maxRetries: 0,
      });
    ts = await client('TOP SECRET//SI//NOFORN', ['OPS']);
    gbr = await client('SECRET//REL TO USA, GBR');
  });
  afterAll(async () => {
    await server.close();
    await Promise.all([publicMock, usMock, ukMock, opsMock].map((m) => m.close()));
  });

  it('sends UNCLASSIFIED to the public endpoint and SECRET past it to the accredited fallback', async () => {
    const before = counts();
    await ts.responses.create({ model: 'openai/public', input: 'low' }, classified('UNCLASSIFIED'));
    expect(counts()).toEqual({ ...before, public: before.public + 1 });
    const secret = await ts.responses.create({ model: 'openai/public', input: 'high' }, classified('SECRET'));
    expect(counts()).toEqual({ ...before, public: before.public + 1, us: before.us + 1 });
    const call = (await auditEntries(server)).find(
      (e) => e.type === 'model.call' && e.objectId === secret.id,
    );
    expect(call).toMatchObject({
      endpoint: 'openai/us-secret',
      label: 'SECRET',
      detail: {
        attempts: [
          { endpoint: 'openai/public', outcome: 'refused', reason: expect.stringMatching(/UNCLASSIFIED/) },
          { endpoint: 'openai/us-secret', outcome: 'answered' },
        ],
      },
    });
  });

  it('joins history and tool output into the context label before choosing', async () => {
    const high = await ts.responses.create(
      { model: 'openai/us-secret', input: 'h' },
      classified('SECRET//SI'),
    );
    const before = counts();
    // An UNCLASSIFIED question on a SECRET//SI history goes where SECRET//SI may go.
    const next = await ts.responses.create(
      { model: 'openai/public', input: 'follow-up', previous_response_id: high.id },
      classified('UNCLASSIFIED'),
    );
    expect(label(next)).toBe('SECRET//SI');
    expect(counts()).toEqual({ ...before, us: before.us + 1 });
    // A SECRET tool result in an otherwise UNCLASSIFIED request.
    const tool = await ts.responses.create(
      {
        model: 'openai/public',
        input: [
          { type: 'function_call', call_id: 'c1', name: 'lookup', arguments: '{}' },
          { type: 'function_call_output', call_id: 'c1', output: 'tool says', label: 'SECRET' } as never,
        ],
      },
      classified('UNCLASSIFIED'),
    );
    expect(label(tool)).toBe('SECRET');
    expect(counts()).toEqual({ ...before, us: before.us + 2 });
  });

  it('checks releasability and need-to-know, refusing with a 403 that names the accreditation', async () => {
    const before = counts();
    const noforn = await ts.responses
      .create({ model: 'openai/uk-secret', input: 'nf' }, classified('SECRET//NOFORN'))
      .catch((e: unknown) => e);
    expect(noforn).toMatchObject({ status: 403, error: { code: 'not_accredited' } });
    expect((noforn as Error).message).toMatch(
      /openai\/uk-secret: accredited only for SECRET\/\/REL TO USA, GBR/,
    );
    await gbr.responses.create(
      { model: 'openai/uk-secret', input: 'rel' },
      classified('SECRET//REL TO USA, GBR'),
    );
    expect(counts()).toEqual({ ...before, uk: before.uk + 1 });

    const ops = ts.responses.create(
      { model: 'openai/us-secret', input: 'o' },
      classified('SECRET ACCESS=OPS'),
    );
    expect(await statusOf(ops)).toBe(403);
    await ts.responses.create({ model: 'openai/ops', input: 'o' }, classified('SECRET ACCESS=OPS'));
    expect(counts()).toEqual({ ...before, uk: before.uk + 1, ops: before.ops + 1 });
    // TOP SECRET goes nowhere remote: every endpoint of the chain refuses, none is contacted.
    expect(
      await statusOf(ts.responses.create({ model: 'openai/public', input: 't' }, classified('TOP SECRET'))),
    ).toBe(403);
    expect(counts()).toEqual({ ...before, uk: before.uk + 1, ops: before.ops + 1 });
    expect(await auditEntries(server)).toContainEqual(
      expect.objectContaining({
        type: 'access.deny',
        rule: 'routing.not_accredited',
        sessionLabel: 'TOP SECRET',
      }),
    );
  });

  it('fails a response create when its model call cannot be recorded, and stores nothing of it', async () => {
    const conversation = await ts.conversations.create({}, classified('SECRET'));
    const audit = server.services.audit;
    const failed = await refusingAudit(
      audit,
      (entry) => entry.type === 'model.call',
      () =>
        ts.responses
          .create(
            { model: 'openai/us-secret', input: 'unrecorded', conversation: conversation.id },
            classified('SECRET'),
          )
          .catch((e: unknown) => e),
    );
    expect(failed).toMatchObject({ status: 503, error: { code: 'audit_unavailable' } });
    expect((await ts.conversations.items.list(conversation.id)).data).toEqual([]);
    // And a read whose decision cannot be recorded is not answered.
    const read = await refusingAudit(
      audit,
      (entry) => entry.type === 'access.allow',
      () => statusOf(ts.conversations.retrieve(conversation.id)),
    );
    expect(read).toBe(503);
  });
});
