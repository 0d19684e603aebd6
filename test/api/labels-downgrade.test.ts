import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engines } from '../support/stores.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { auditEntries, classified, statusOf } from './labels-support.js';

/** Trusted downgrade over HTTP: a separate, audited operation that needs a second person. */
for (const engine of engines) {
  describe(`trusted downgrade, two-person rule [${engine}]`, () => {
    let server: TestServer;
    let requester: OpenAI;
    let reviewer: OpenAI;
    let lowReviewer: OpenAI;
    let low: OpenAI;
    let requesterKey: string;
    const post = (key: string, path: string, body: unknown) =>
      fetch(`${server.baseUrl}/v1/labels/downgrades${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    let reviewerKey: string;
    let lowReviewerKey: string;

    beforeAll(async () => {
      server = await startTestServer({ engine });
      const client = (apiKey: string) =>
        new OpenAI({ baseURL: `${server.baseUrl}/v1`, apiKey, maxRetries: 0 });
      requesterKey = await server.key({ clearance: 'TOP SECRET', role: 'reviewer' });
      reviewerKey = await server.key({ clearance: 'SECRET', role: 'reviewer' });
      lowReviewerKey = await server.key({ clearance: 'UNCLASSIFIED', role: 'reviewer' });
      requester = client(requesterKey);
      reviewer = client(reviewerKey);
      lowReviewer = client(lowReviewerKey);
      low = client(await server.key({ clearance: 'UNCLASSIFIED' }));
    });
    afterAll(async () => server.close());

    it('relabels a conversation and its items only once a different reviewer approves', async () => {
      const conv = await requester.conversations.create(
        { items: [{ role: 'user', content: 'now releasable' }], metadata: { topic: 'x' } },
        classified('SECRET'),
      );
      await requester.responses.create(
        { model: 'local/echo', input: 'answer me', conversation: conv.id },
        classified('SECRET'),
      );
      expect(await statusOf(low.conversations.retrieve(conv.id))).toBe(404);

      const asked = await post(requesterKey, '', {
        target: { type: 'conversation', id: conv.id },
        to: 'UNCLASSIFIED',
        reason: 'declassified by review 42',
      });
      expect(asked.status).toBe(201);
      const request = (await asked.json()) as { id: string; status: string; from: string; to: string };
      expect(request).toMatchObject({ status: 'pending', from: 'SECRET', to: 'UNCLASSIFIED' });
      // Nothing changes before the decision.
      expect(await statusOf(low.conversations.retrieve(conv.id))).toBe(404);

      // The requester cannot approve their own request; a reviewer who cannot read the object never sees it.
      const self = await post(requesterKey, `/${request.id}`, { decision: 'approve' });
      expect(self.status).toBe(403);
      expect((await post(lowReviewerKey, `/${request.id}`, { decision: 'approve' })).status).toBe(404);
      // Plain users cannot decide at all (route roles: reviewer, admin).
      const lowKey = (low as unknown as { apiKey: string }).apiKey;
      expect((await post(lowKey, `/${request.id}`, { decision: 'approve' })).status).toBe(403);
      expect(await statusOf(lowReviewer.conversations.retrieve(conv.id))).toBe(404);

      const approved = await post(reviewerKey, `/${request.id}`, { decision: 'approve' });
      expect(approved.status).toBe(200);
      expect(await approved.json()).toMatchObject({ status: 'approved', reviewed_by: expect.any(String) });
      expect((await post(reviewerKey, `/${request.id}`, { decision: 'approve' })).status).toBe(409);

      const seen = await low.conversations.retrieve(conv.id);
      expect(seen).toMatchObject({
        label: 'UNCLASSIFIED',
        high_water_label: 'UNCLASSIFIED',
        metadata: { topic: 'x' },
      });
      const items = await low.conversations.items.list(conv.id, { order: 'asc' });
      expect(items.data.map((i) => (i as { label?: string }).label)).toEqual([
        'UNCLASSIFIED',
        'UNCLASSIFIED',
        'UNCLASSIFIED',
      ]);
      expect(JSON.stringify(items.data)).toContain('now releasable');
      // Continuing it now stays UNCLASSIFIED.
      const next = await low.responses.create({ model: 'local/echo', input: 'more', conversation: conv.id });
      expect((next as unknown as { label: string }).label).toBe('UNCLASSIFIED');

      const logged = (await auditEntries(server)).filter((e) => e.type === 'label.downgrade');
      expect(logged.map((e) => [e.rule, e.decision])).toEqual([
        ['downgrade.requested', 'allow'],
        ['downgrade.same_person', 'deny'],
        ['downgrade.approved', 'allow'],
      ]);
      expect(logged[2]).toMatchObject({
        objectId: conv.id,
        objectLabel: 'SECRET',
        sessionLabel: 'UNCLASSIFIED',
      });
    });

    it('downgrades a response without exposing the higher history it continued from', async () => {
      const first = await requester.responses.create(
        { model: 'local/echo', input: 'stays secret' },
        classified('SECRET'),
      );
      const second = await requester.responses.create(
        { model: 'local/echo', input: 'released part', previous_response_id: first.id },
        classified('SECRET'),
      );
      const asked = (await (
        await post(requesterKey, '', {
          target: { type: 'response', id: second.id },
          to: 'UNCLASSIFIED',
          reason: 'r',
        })
      ).json()) as { id: string };
      expect((await post(reviewerKey, `/${asked.id}`, { decision: 'approve' })).status).toBe(200);
      const seen = await low.responses.retrieve(second.id);
      expect(seen.output_text).toContain('released part');
      // The model saw the SECRET history; this reader sees only the response's own input, and no hint of more.
      const inputs = await low.responses.inputItems.list(second.id);
      expect(inputs.data).toHaveLength(1);
      expect(inputs.has_more).toBe(false);
      expect(JSON.stringify(inputs)).not.toContain('stays secret');
      expect(await statusOf(low.responses.retrieve(first.id))).toBe(404);
    });

    it('lists requests to reviewers and requesters: label-filtered, paginated, own-only for users', async () => {
      // A tenant of its own, so the listing holds exactly what this test made.
      const tenant = 'tenant-downgrade-list';
      const asker = await server.key({ tenant, clearance: 'TOP SECRET', role: 'reviewer' });
      const user = await server.key({ tenant, clearance: 'SECRET' });
      const secretReviewer = await server.key({ tenant, clearance: 'SECRET', role: 'reviewer' });
      const uReviewer = await server.key({ tenant, clearance: 'UNCLASSIFIED', role: 'reviewer' });
      const client = (apiKey: string) =>
        new OpenAI({ baseURL: `${server.baseUrl}/v1`, apiKey, maxRetries: 0 });
      const ask = async (key: string, label: string, reason: string): Promise<string> => {
        const r = await client(key).responses.create(
          { model: 'local/echo', input: reason },
          classified(label),
        );
        const made = await post(key, '', {
          target: { type: 'response', id: r.id },
          to: 'UNCLASSIFIED',
          reason,
        });
        expect(made.status).toBe(201);
        return ((await made.json()) as { id: string }).id;
      };
      const secretIds = [await ask(asker, 'SECRET', 'secret one'), await ask(asker, 'SECRET', 'secret two')];
      const topSecret = await ask(asker, 'TOP SECRET', 'codeword topic');
      const usersOwn = await ask(user, 'SECRET', 'user asks');
      const get = async (key: string, query: string) => {
        const r = await fetch(`${server.baseUrl}/v1/labels/downgrades${query}`, {
          headers: { authorization: `Bearer ${key}` },
        });
        return { status: r.status, body: (await r.json()) as Record<string, unknown> };
      };
      type Page = { data: { id: string; reason: string }[]; has_more: boolean; last_id: string | null };

      // The SECRET reviewer pages through exactly the SECRET requests, one at a time; nothing tells of the TS one.
      const seen: string[] = [];
      let after = '';
      for (;;) {
        const { status, body } = await get(secretReviewer, `?status=pending&limit=1${after}`);
        expect(status).toBe(200);
        const page = body as unknown as Page;
        expect(page.data.length).toBeLessThanOrEqual(1);
        seen.push(...page.data.map((d) => d.id));
        expect(JSON.stringify(page)).not.toContain('codeword');
        if (!page.has_more) break;
        after = `&after=${page.last_id}`;
      }
      expect(seen).toEqual([...secretIds, usersOwn]);
      // The top-secret reviewer sees all four; the UNCLASSIFIED one sees an empty queue, not a count.
      expect(((await get(asker, '')).body as unknown as Page).data.map((d) => d.id)).toEqual([
        ...secretIds,
        topSecret,
        usersOwn,
      ]);
      expect((await get(uReviewer, '')).body).toMatchObject({ data: [], has_more: false, first_id: null });
      // A cursor that names an invisible request reveals nothing either.
      expect((await get(uReviewer, `?after=${topSecret}`)).body).toMatchObject({ data: [], has_more: false });
      expect((await get(secretReviewer, `/${topSecret}`)).status).toBe(404);

      // A user lists and reads only their own requests; `mine` narrows a reviewer's view the same way.
      expect(((await get(user, '')).body as unknown as Page).data.map((d) => d.id)).toEqual([usersOwn]);
      expect((await get(user, `/${usersOwn}`)).body).toMatchObject({
        status: 'pending',
        reason: 'user asks',
      });
      expect((await get(user, `/${secretIds[0]}`)).status).toBe(404);
      expect(((await get(asker, '?mine=true')).body as unknown as Page).data).toHaveLength(3);

      // Decided requests leave the pending queue and show under their status.
      expect((await post(secretReviewer, `/${usersOwn}`, { decision: 'reject' })).status).toBe(200);
      const pending = (await get(asker, '?status=pending')).body as unknown as Page;
      expect(pending.data.map((d) => d.id)).not.toContain(usersOwn);
      expect(((await get(asker, '?status=rejected')).body as unknown as Page).data.map((d) => d.id)).toEqual([
        usersOwn,
      ]);
      expect((await get(asker, '?status=unknown')).status).toBe(400);

      const listed = (await auditEntries(server)).filter(
        (e) => e.tenant === tenant && e.detail?.kind === 'downgrade' && e.detail.action === 'list',
      );
      expect(listed.length).toBeGreaterThan(0);
      expect(listed.some((e) => (e.detail?.ids as string[]).includes(topSecret))).toBe(true);
    });

    it('refuses an upgrade dressed as a downgrade, and records a rejection', async () => {
      const r = await requester.responses.create({ model: 'local/echo', input: 'x' }, classified('SECRET'));
      const up = await post(requesterKey, '', {
        target: { type: 'response', id: r.id },
        to: 'TOP SECRET',
        reason: 'r',
      });
      expect(up.status).toBe(400);
      const side = await post(requesterKey, '', {
        target: { type: 'response', id: r.id },
        to: 'SECRET//NOFORN',
        reason: 'r',
      });
      expect(side.status).toBe(400);
      // Unknown fields are refused on these routes (nobody can slip a "clearance" or "reviewer" in).
      const extra = await post(requesterKey, '', {
        target: { type: 'response', id: r.id },
        to: 'CONFIDENTIAL',
        reason: 'r',
        reviewer: 'me',
      });
      expect(extra.status).toBe(400);
      const asked = (await (
        await post(requesterKey, '', {
          target: { type: 'response', id: r.id },
          to: 'CONFIDENTIAL',
          reason: 'r',
        })
      ).json()) as { id: string };
      const rejected = await post(reviewerKey, `/${asked.id}`, { decision: 'reject' });
      expect(await rejected.json()).toMatchObject({ status: 'rejected' });
      expect(await statusOf(reviewer.responses.retrieve(r.id))).toBe(200);
      expect((await reviewer.responses.retrieve(r.id)) as unknown).toMatchObject({ label: 'SECRET' });
    });
  });
}
