import { beforeAll, expect, it } from 'vitest';
import type { ReadScope } from '../../src/store/read-scope.js';
import { describeStore, uniqueId } from '../support/stores.js';

/** MAC on durable-run rows: scoped reads filter `label_id IN (…)` inside the query (migration 0013). */
describeStore('store contract: labelled runs, events and approvals', (store) => {
  let low: string;
  let high: string;
  beforeAll(async () => {
    low = await store().labels.ensure('UNCLASSIFIED');
    high = await store().labels.ensure('SECRET');
  });
  const scopes = (tenantId: string) => ({
    low: { tenantId, labelIds: [low] } as ReadScope,
    high: { tenantId, labelIds: [low, high] } as ReadScope,
  });
  const newRun = async (tenantId: string, labelId: string) => {
    const id = uniqueId('resp');
    await store().runs.insert({ id, tenantId, kind: 'test', labelId, input: { q: 1 } });
    return id;
  };
  const approval = (tenantId: string, runId: string, labelId: string, requestedBy = 'key_a') => ({
    id: uniqueId('apr'),
    tenantId,
    runId,
    stepIndex: 0,
    labelId,
    source: 'mcp' as const,
    serverLabel: 'calc',
    toolName: 'add',
    arguments: '{}',
    reason: null,
    requestedBy,
    createdAt: 1,
  });

  it('reads a run only under a scope of its tenant that sees its label', async () => {
    const tenantId = uniqueId('t');
    const { low: lo, high: hi } = scopes(tenantId);
    const id = await newRun(tenantId, high);
    expect(await store().runs.get(lo, id)).toBeUndefined();
    expect(await store().runs.get({ ...hi, tenantId: uniqueId('t') }, id)).toBeUndefined();
    expect(await store().runs.get({ tenantId, labelIds: [] }, id)).toBeUndefined();
    expect(await store().runs.get(hi, id)).toMatchObject({ id, labelId: high, input: { q: 1 } });
  });

  it('labels events with the run label at append time and hides all of them once the run is above the reader', async () => {
    const tenantId = uniqueId('t');
    const { low: lo, high: hi } = scopes(tenantId);
    const id = await newRun(tenantId, low);
    await store().runs.appendEvent(id, 'a', { n: 0 });
    expect((await store().runs.visibleEvents(lo, id, -1)).map((e) => e.seq)).toEqual([0]);
    expect(await store().runs.relabel(id, high)).toBe(true);
    await store().runs.appendEvent(id, 'b', { n: 1 });
    // Earlier rows keep the label they were written under; later ones carry the raised label.
    expect((await store().runs.events(id, -1)).map((e) => [e.seq, e.labelId])).toEqual([
      [0, low],
      [1, high],
    ]);
    expect(await store().runs.visibleEvents(lo, id, -1)).toEqual([]);
    expect((await store().runs.visibleEvents(hi, id, -1)).map((e) => e.data)).toEqual([{ n: 0 }, { n: 1 }]);
    expect((await store().runs.visibleEvents(hi, id, 0)).map((e) => e.seq)).toEqual([1]);
    expect(await store().runs.visibleEvents({ ...hi, tenantId: uniqueId('t') }, id, -1)).toEqual([]);
  });

  it('steps carry the label they began with; a retry keeps it', async () => {
    const tenantId = uniqueId('t');
    const id = await newRun(tenantId, low);
    const step = {
      runId: id,
      index: 0,
      kind: 'tool_call' as const,
      name: 'x',
      idempotencyKey: `${id}:0`,
      input: 1,
    };
    expect(await store().runSteps.begin({ ...step, labelId: low })).toMatchObject({ labelId: low });
    expect(await store().runSteps.begin({ ...step, labelId: high })).toMatchObject({
      labelId: low,
      attempts: 2,
    });
  });

  it('lists, reads and decides approvals only within the scope, without counting hidden ones', async () => {
    const tenantId = uniqueId('t');
    const { low: lo, high: hi } = scopes(tenantId);
    const lowRun = await newRun(tenantId, low);
    const highRun = await newRun(tenantId, high);
    const open = await store().approvals.request(approval(tenantId, lowRun, low));
    const hidden = await store().approvals.request(approval(tenantId, highRun, high, 'key_b'));
    expect((await store().approvals.listPending(lo)).map((a) => a.id)).toEqual([open.id]);
    expect((await store().approvals.listPending(hi)).map((a) => a.id).sort()).toEqual(
      [open.id, hidden.id].sort(),
    );
    expect((await store().approvals.listPending(hi, { requestedBy: 'key_b' })).map((a) => a.id)).toEqual([
      hidden.id,
    ]);
    expect(await store().approvals.listPending(hi, { limit: 1 })).toHaveLength(1);
    expect(await store().approvals.get(lo, hidden.id)).toBeUndefined();
    expect(await store().approvals.get(hi, hidden.id)).toMatchObject({ id: hidden.id, labelId: high });
    expect(await store().approvals.decide(lo, hidden.id, { approve: true, by: 'r', role: 'reviewer' })).toBe(
      false,
    );
    expect((await store().approvals.byId(tenantId, hidden.id))?.status).toBe('pending');
    // A run raised above the reader hides its approvals too, even one requested at the lower label.
    await store().runs.relabel(lowRun, high);
    expect(await store().approvals.listPending(lo)).toEqual([]);
    expect(await store().approvals.get(lo, open.id)).toBeUndefined();
    expect(await store().approvals.decide(lo, open.id, { approve: true, by: 'r', role: 'reviewer' })).toBe(
      false,
    );
    expect(await store().approvals.decide(hi, open.id, { approve: true, by: 'r', role: 'reviewer' })).toBe(
      true,
    );
  });
});
