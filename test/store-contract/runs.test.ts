import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/open-store.js';
import type { Store } from '../../src/store/store.js';
import {
  createTestDatabase,
  describeStore,
  engines,
  uniqueId,
  type TestDatabase,
} from '../support/stores.js';

const lease = (id: string, owner: string, attempt: number) => ({ id, owner, attempt });

describeStore('store contract: job queue', (store) => {
  it('claims due jobs only, once, and completes them under the lease', async () => {
    const kind = uniqueId('k');
    const now = 10_000;
    await store().jobs.enqueue({ id: uniqueId('j'), kind, payload: { n: 1 } }, now);
    await store().jobs.enqueue({ id: uniqueId('j'), kind, payload: { n: 2 }, runAfter: now * 1000 }, now);
    const claimed = (await store().jobs.claim('w1', 100, 1000, now)).filter((j) => j.kind === kind);
    expect(claimed).toHaveLength(1);
    const [job] = claimed;
    expect(job).toMatchObject({ status: 'running', attempts: 1, leaseOwner: 'w1', payload: { n: 1 } });
    expect((await store().jobs.claim('w2', 100, 1000, now)).filter((j) => j.kind === kind)).toHaveLength(0);
    expect(await store().jobs.complete(lease(job!.id, 'w2', 1))).toBe(false);
    expect(await store().jobs.complete(lease(job!.id, 'w1', 1))).toBe(true);
    expect((await store().jobs.byId(job!.id))?.status).toBe('done');
  });

  it('reclaims a job whose lease expired and fences out the old holder', async () => {
    const id = uniqueId('j');
    await store().jobs.enqueue({ id, kind: uniqueId('k'), payload: null }, 1);
    const first = (await store().jobs.claim('dead', 1000, 100, 1)).find((j) => j.id === id);
    expect(first?.attempts).toBe(1);
    expect(await store().jobs.heartbeat(lease(id, 'dead', 1), 100, 50)).toBe(true);
    // Not yet expired at 149 (heartbeat moved it to 150); expired at 151.
    expect((await store().jobs.claim('alive', 1000, 100, 149)).find((j) => j.id === id)).toBeUndefined();
    const second = (await store().jobs.claim('alive', 1000, 100, 151)).find((j) => j.id === id);
    expect(second).toMatchObject({ attempts: 2, leaseOwner: 'alive' });
    expect(await store().jobs.heartbeat(lease(id, 'dead', 1), 100, 152)).toBe(false);
    expect(await store().jobs.complete(lease(id, 'dead', 1))).toBe(false);
    expect(await store().jobs.complete(lease(id, 'alive', 2))).toBe(true);
  });

  it('retries with backoff, then fails when attempts are used up', async () => {
    const id = uniqueId('j');
    await store().jobs.enqueue({ id, kind: uniqueId('k'), payload: null, maxAttempts: 2 }, 1);
    await store().jobs.claim('w', 1000, 100, 1);
    expect(await store().jobs.retry(lease(id, 'w', 1), 'boom', 500, 2)).toBe(true);
    expect(await store().jobs.byId(id)).toMatchObject({ status: 'queued', runAfter: 500, lastError: 'boom' });
    expect((await store().jobs.claim('w', 1000, 100, 499)).find((j) => j.id === id)).toBeUndefined();
    await store().jobs.claim('w', 1000, 100, 500);
    expect(await store().jobs.retry(lease(id, 'w', 2), 'boom again', 900, 501)).toBe(true);
    expect((await store().jobs.byId(id))?.status).toBe('failed');
  });

  it('expires the leases of known-dead owners at once', async () => {
    const id = uniqueId('j');
    await store().jobs.enqueue({ id, kind: uniqueId('k'), payload: null }, 1);
    const owner = uniqueId('owner');
    await store().jobs.claim(owner, 1000, 1_000_000, 1);
    expect(await store().jobs.runningOwners()).toContain(owner);
    expect(await store().jobs.expireLeasesOf([owner], 10)).toBe(1);
    expect((await store().jobs.claim('other', 1000, 100, 10)).find((j) => j.id === id)?.attempts).toBe(2);
  });

  it('enqueues a job id once', async () => {
    const id = uniqueId('j');
    expect(await store().jobs.enqueueOnce({ id, kind: 'x', payload: 1 })).toBe(true);
    expect(await store().jobs.enqueueOnce({ id, kind: 'x', payload: 2 })).toBe(false);
    expect((await store().jobs.byId(id))?.payload).toBe(1);
  });
});

describeStore('store contract: runs, steps, events, approvals', (store) => {
  let labelId: string;
  beforeAll(async () => {
    labelId = await store().labels.ensure('UNCLASSIFIED');
  });
  const newRun = async () => {
    const id = uniqueId('resp');
    await store().runs.insert({ id, tenantId: uniqueId('t'), kind: 'test', labelId, input: { q: 1 } });
    return id;
  };

  it('moves a run only from the expected states', async () => {
    const id = await newRun();
    expect(await store().runs.transition(id, ['queued'], 'in_progress')).toBe(true);
    expect(await store().runs.transition(id, ['queued'], 'cancelled')).toBe(false);
    expect(
      await store().runs.transition(id, ['in_progress'], 'completed', { output: { ok: 1 }, completed: true }),
    ).toBe(true);
    expect(await store().runs.byId(id)).toMatchObject({
      status: 'completed',
      output: { ok: 1 },
      input: { q: 1 },
    });
    expect(await store().runs.requestCancel(id, 7)).toBe(true);
    expect(await store().runs.requestCancel(id, 8)).toBe(true);
    expect((await store().runs.byId(id))?.cancelRequestedAt).toBe(7);
  });

  it('numbers events densely even when appended concurrently', async () => {
    const id = await newRun();
    const seqs = await Promise.all(
      Array.from({ length: 20 }, (_, i) => store().runs.appendEvent(id, 't', { i })),
    );
    expect([...seqs].sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    const after = await store().runs.events(id, 14);
    expect(after.map((e) => e.seq)).toEqual([15, 16, 17, 18, 19]);
  });

  it('never overwrites a finished step; a started step is started again with the same key', async () => {
    const id = await newRun();
    const step = {
      runId: id,
      index: 0,
      kind: 'tool_call' as const,
      name: 'add',
      idempotencyKey: `${id}:0`,
      labelId,
      input: 1,
    };
    expect(await store().runSteps.begin(step)).toMatchObject({ status: 'started', attempts: 1 });
    expect(await store().runSteps.begin(step)).toMatchObject({ status: 'started', attempts: 2 });
    expect(await store().runSteps.finish(id, 0, { status: 'failed', error: 'upstream 503' })).toBe(true);
    expect(await store().runSteps.begin(step)).toMatchObject({ status: 'started', attempts: 3 });
    expect(await store().runSteps.finish(id, 0, { status: 'completed', output: { sum: 3 } })).toBe(true);
    expect(await store().runSteps.finish(id, 0, { status: 'completed', output: { sum: 4 } })).toBe(false);
    expect(await store().runSteps.begin(step)).toMatchObject({
      status: 'completed',
      attempts: 3,
      output: { sum: 3 },
    });
    expect((await store().runSteps.list(id)).map((s) => s.idempotencyKey)).toEqual([`${id}:0`]);
  });

  it('records an approval request once and takes the first decision only', async () => {
    const runId = await newRun();
    const tenantId = uniqueId('t');
    const request = {
      id: uniqueId('apr'),
      tenantId,
      runId,
      stepIndex: 3,
      labelId,
      source: 'mcp' as const,
      serverLabel: 'calc',
      toolName: 'add',
      arguments: '{"a":1}',
      reason: null,
      requestedBy: 'key_a',
      createdAt: 1,
    };
    const first = await store().approvals.request(request);
    const again = await store().approvals.request({ ...request, id: uniqueId('apr') });
    expect(again.id).toBe(first.id);
    const scope = { tenantId, labelIds: [labelId] };
    expect(await store().approvals.listPending(scope)).toHaveLength(1);
    expect(
      await store().approvals.decide({ ...scope, tenantId: 'other-tenant' }, first.id, {
        approve: true,
        by: 'x',
        role: 'reviewer',
      }),
    ).toBe(false);
    expect(
      await store().approvals.decide(scope, first.id, { approve: false, by: 'rev', role: 'reviewer' }),
    ).toBe(true);
    expect(
      await store().approvals.decide(scope, first.id, { approve: true, by: 'rev2', role: 'reviewer' }),
    ).toBe(false);
    expect(await store().approvals.forStep(runId, 3)).toMatchObject({ status: 'rejected', decidedBy: 'rev' });
  });
});

describeStore('store contract: conversation writer lease', (store) => {
  it('grants one live holder at a time with strictly increasing tokens', async () => {
    const c = uniqueId('conv');
    const a = await store().conversationLeases.tryAcquire(c, 'a', 100, 1_000);
    expect(a?.token).toBe(1);
    expect(await store().conversationLeases.tryAcquire(c, 'b', 100, 1_050)).toBeUndefined();
    await store().conversationLeases.assertFence(c, 1, 1_050);
    // a stalls past its expiry; b takes over and a's writes are fenced off.
    const b = await store().conversationLeases.tryAcquire(c, 'b', 100, 1_200);
    expect(b?.token).toBe(2);
    await expect(store().conversationLeases.assertFence(c, 1, 1_201)).rejects.toMatchObject({
      code: 'conflict',
    });
    expect(await store().conversationLeases.renew(a!, 100, 1_201)).toBe(false);
    expect(await store().conversationLeases.release(a!)).toBe(false);
    expect(await store().conversationLeases.release(b!)).toBe(true);
    const c3 = await store().conversationLeases.tryAcquire(c, 'a', 100, 1_202);
    expect(c3?.token).toBe(3);
  });

  it('gives a contended lease to exactly one of many racers', async () => {
    const c = uniqueId('conv');
    const now = Date.now();
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => store().conversationLeases.tryAcquire(c, `h${i}`, 60_000, now)),
    );
    expect(results.filter(Boolean)).toHaveLength(1);
  });
});

// Two stores (two connection pools, as two processes would have) on one database.
for (const engine of engines) {
  describe(`store contract: concurrent claimers [${engine}]`, () => {
    let database: TestDatabase | undefined;
    let stores: Store[] = [];
    beforeAll(async () => {
      database = await createTestDatabase(engine);
      const open = () => openStore({ databaseUrl: database!.databaseUrl, dataDir: database!.dataDir });
      stores = [await open(), await open()];
    });
    afterAll(async () => {
      for (const s of stores) await s.close();
      await database?.drop();
    });

    it('never hands the same job to two claimers', async () => {
      const kind = uniqueId('k');
      const ids = Array.from({ length: 60 }, () => uniqueId('j'));
      for (const id of ids) await stores[0]!.jobs.enqueue({ id, kind, payload: null });
      const claimedBy = new Map<string, string>();
      const claimer = async (s: Store, owner: string) => {
        for (;;) {
          const jobs = await s.jobs.claim(owner, 3, 60_000);
          if (jobs.length === 0) return;
          for (const j of jobs) {
            expect(claimedBy.has(j.id), `job ${j.id} claimed twice`).toBe(false);
            claimedBy.set(j.id, owner);
          }
        }
      };
      await Promise.all([
        claimer(stores[0]!, 'a1'),
        claimer(stores[1]!, 'b1'),
        claimer(stores[0]!, 'a2'),
        claimer(stores[1]!, 'b2'),
      ]);
      expect([...claimedBy.keys()].sort()).toEqual([...ids].sort());
    });
  });
}
