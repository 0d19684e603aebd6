import { expect, it } from 'vitest';
import type { ReadScope } from '../../src/store/read-scope.js';
import type { ConversationRecord } from '../../src/store/repos/conversation-repo.js';
import type { ItemRecord } from '../../src/store/repos/item-repo.js';
import type { ResponseRecord } from '../../src/store/repos/response-repo.js';
import type { Store } from '../../src/store/store.js';
import { describeStore, uniqueId } from '../support/stores.js';

interface World {
  tenant: string;
  low: string;
  high: string;
  /** Sees both labels. */
  all: ReadScope;
  /** Sees only the low label. */
  lowOnly: ReadScope;
}

async function world(store: Store): Promise<World> {
  const tenant = uniqueId('t');
  await store.tenants.ensure(tenant);
  const low = await store.labels.ensure('UNCLASSIFIED');
  const high = await store.labels.ensure(`SECRET//${uniqueId('C').toUpperCase()}`);
  return {
    tenant,
    low,
    high,
    all: { tenantId: tenant, labelIds: [low, high] },
    lowOnly: { tenantId: tenant, labelIds: [low] },
  };
}

const conversation = (w: World, over: Partial<ConversationRecord> = {}): ConversationRecord => ({
  id: uniqueId('conv'),
  tenantId: w.tenant,
  labelId: w.low,
  highWaterLabelId: w.low,
  metadata: '{"topic":"x"}',
  principal: 'key_1',
  createdAt: 1_700_000_000_000,
  updatedAt: 1_700_000_000_000,
  ...over,
});

const item = (w: World, over: Partial<ItemRecord> = {}): ItemRecord => ({
  id: uniqueId('msg'),
  tenantId: w.tenant,
  labelId: w.low,
  conversationId: null,
  responseId: null,
  position: 0,
  type: 'message',
  role: 'user',
  status: 'completed',
  callId: null,
  content: '[{"type":"input_text","text":"hi"}]',
  createdAt: 1_700_000_000_000,
  ...over,
});

const response = (w: World, over: Partial<ResponseRecord> = {}): ResponseRecord => ({
  id: uniqueId('resp'),
  tenantId: w.tenant,
  labelId: w.low,
  status: 'completed',
  model: 'local/echo',
  endpoint: 'local/echo',
  provider: 'local',
  principal: 'key_1',
  previousResponseId: null,
  conversationId: null,
  inputItemIds: ['a'],
  contextItemIds: ['a'],
  outputItemIds: ['b'],
  params: '{}',
  instructions: 'be brief',
  tools: '[]',
  metadata: '{}',
  usage: '{"input_tokens":1}',
  error: null,
  incompleteReason: null,
  latencyMs: 12,
  createdAt: 1_700_000_000_000,
  completedAt: 1_700_000_000_012,
  ...over,
});

describeStore('store contract: conversations, items, responses', (store) => {
  it('inserts and reads a conversation only inside its tenant and visible labels', async () => {
    const w = await world(store());
    const c = conversation(w, { labelId: w.high, highWaterLabelId: w.high });
    await store().conversations.insert(c);
    expect(await store().conversations.get(w.all, c.id)).toEqual(c);
    expect(await store().conversations.get(w.lowOnly, c.id)).toBeUndefined();
    expect(
      await store().conversations.get({ tenantId: 'other', labelIds: [w.low, w.high] }, c.id),
    ).toBeUndefined();
    expect(await store().conversations.get({ tenantId: w.tenant, labelIds: [] }, c.id)).toBeUndefined();
  });

  it('lists conversations with a cursor and never shows invisible ones', async () => {
    const w = await world(store());
    const rows = [0, 1, 2, 3].map((i) =>
      conversation(w, {
        createdAt: 1000 + i,
        labelId: i === 2 ? w.high : w.low,
        highWaterLabelId: i === 2 ? w.high : w.low,
      }),
    );
    for (const r of rows) await store().conversations.insert(r);
    const all = await store().conversations.list(w.all, { limit: 10, order: 'asc' });
    expect(all.data.map((r) => r.id)).toEqual(rows.map((r) => r.id));
    const low = await store().conversations.list(w.lowOnly, { limit: 2, order: 'asc' });
    expect(low.data.map((r) => r.id)).toEqual([rows[0]?.id, rows[1]?.id]);
    expect(low.hasMore).toBe(true);
    const next = await store().conversations.list(w.lowOnly, { limit: 2, order: 'asc', after: rows[1]?.id });
    expect(next.data.map((r) => r.id)).toEqual([rows[3]?.id]);
    expect(next.hasMore).toBe(false);
    const desc = await store().conversations.list(w.lowOnly, { limit: 5, order: 'desc' });
    expect(desc.data.map((r) => r.id)).toEqual([rows[3]?.id, rows[1]?.id, rows[0]?.id]);
    // An invisible cursor behaves like an unknown one: no rows, no hint.
    expect(
      await store().conversations.list(w.lowOnly, { limit: 5, order: 'asc', after: rows[2]?.id }),
    ).toEqual({
      data: [],
      hasMore: false,
    });
  });

  it('updates metadata and advances positions and the high-water mark atomically', async () => {
    const w = await world(store());
    const c = conversation(w, { labelId: w.high });
    await store().conversations.insert(c);
    expect(await store().conversations.updateMetadata(w.all, c.id, '{"a":"b"}', 5)).toBe(true);
    expect(await store().conversations.updateMetadata(w.lowOnly, c.id, '{"a":"c"}', 6)).toBe(false);
    const first = await store().transaction(async (tx) => {
      await tx.conversations.getForAppend(w.all, c.id);
      return tx.conversations.advance(w.all, c.id, { count: 3, highWaterLabelId: w.high, now: 7 });
    });
    const second = await store().conversations.advance(w.all, c.id, {
      count: 2,
      highWaterLabelId: w.high,
      now: 8,
    });
    expect([first, second]).toEqual([0, 3]);
    const got = await store().conversations.get(w.all, c.id);
    expect(got).toMatchObject({ metadata: '{"a":"b"}', highWaterLabelId: w.high, updatedAt: 8 });
  });

  it('hands out distinct positions to concurrent appenders', async () => {
    const w = await world(store());
    const c = conversation(w);
    await store().conversations.insert(c);
    const starts = await Promise.all(
      Array.from({ length: 20 }, () =>
        store().transaction(async (tx) => {
          await tx.conversations.getForAppend(w.all, c.id);
          return tx.conversations.advance(w.all, c.id, { count: 2, highWaterLabelId: w.low, now: 1 });
        }),
      ),
    );
    expect(new Set(starts).size).toBe(20);
    expect(Math.max(...starts)).toBe(38);
  });

  it('stores items, reads them by id and pages a conversation by position', async () => {
    const w = await world(store());
    const c = conversation(w, { labelId: w.high });
    await store().conversations.insert(c);
    const items = [0, 1, 2, 3, 4].map((i) =>
      item(w, {
        conversationId: c.id,
        position: i,
        labelId: i === 3 ? w.high : w.low,
        callId: i === 1 ? 'call_1' : null,
      }),
    );
    await store().items.insertMany(items);
    expect(await store().items.get(w.all, items[1]?.id ?? '')).toEqual(items[1]);
    expect(await store().items.get(w.lowOnly, items[3]?.id ?? '')).toBeUndefined();
    const byIds = await store().items.byIds(
      w.lowOnly,
      items.map((i) => i.id),
    );
    expect(byIds.map((i) => i.id).sort()).toEqual(
      items
        .filter((_, i) => i !== 3)
        .map((i) => i.id)
        .sort(),
    );
    const page1 = await store().items.listConversation(w.lowOnly, c.id, { limit: 2, order: 'asc' });
    expect(page1.data.map((i) => i.position)).toEqual([0, 1]);
    expect(page1.hasMore).toBe(true);
    const page2 = await store().items.listConversation(w.lowOnly, c.id, {
      limit: 2,
      order: 'asc',
      after: items[1]?.id,
    });
    expect(page2.data.map((i) => i.position)).toEqual([2, 4]);
    expect(page2.hasMore).toBe(false);
    const desc = await store().items.listConversation(w.all, c.id, { limit: 10, order: 'desc' });
    expect(desc.data.map((i) => i.position)).toEqual([4, 3, 2, 1, 0]);
    expect(
      await store().items.listConversation({ tenantId: 'other', labelIds: [w.low] }, c.id, {
        limit: 9,
        order: 'asc',
      }),
    ).toEqual({
      data: [],
      hasMore: false,
    });
  });

  it('gives the model context from the latest compaction item on', async () => {
    const w = await world(store());
    const c = conversation(w);
    await store().conversations.insert(c);
    const types = ['message', 'message', 'compaction', 'message', 'compaction', 'message', 'function_call'];
    await store().items.insertMany(
      types.map((type, position) => item(w, { conversationId: c.id, position, type })),
    );
    const context = await store().items.conversationContext(w.all, c.id);
    expect(context.map((i) => [i.position, i.type])).toEqual([
      [4, 'compaction'],
      [5, 'message'],
      [6, 'function_call'],
    ]);
    const plain = conversation(w);
    await store().conversations.insert(plain);
    await store().items.insertMany([0, 1].map((position) => item(w, { conversationId: plain.id, position })));
    expect((await store().items.conversationContext(w.all, plain.id)).map((i) => i.position)).toEqual([0, 1]);
  });

  it("deletes one item, a response's detached items, and a conversation with all its items", async () => {
    const w = await world(store());
    const c = conversation(w);
    await store().conversations.insert(c);
    const inConv = [0, 1].map((position) =>
      item(w, { conversationId: c.id, position, responseId: 'resp_x' }),
    );
    const detached = item(w, { responseId: 'resp_x' });
    await store().items.insertMany([...inConv, detached]);
    expect(await store().items.delete(w.all, c.id, inConv[0]?.id ?? '')).toBe(true);
    expect(await store().items.delete(w.all, c.id, inConv[0]?.id ?? '')).toBe(false);
    expect(await store().items.delete(w.all, 'other_conv', inConv[1]?.id ?? '')).toBe(false);
    await store().items.deleteDetached(w.all, 'resp_x');
    expect(await store().items.get(w.all, detached.id)).toBeUndefined();
    expect(await store().items.get(w.all, inConv[1]?.id ?? '')).toBeDefined();
    expect(await store().conversations.delete(w.lowOnly, uniqueId('nope'))).toBe(false);
    expect(await store().conversations.delete(w.all, c.id)).toBe(true);
    expect(await store().conversations.get(w.all, c.id)).toBeUndefined();
    expect(await store().items.get(w.all, inConv[1]?.id ?? '')).toBeUndefined();
  });

  it('refuses to delete an invisible conversation', async () => {
    const w = await world(store());
    const c = conversation(w, { labelId: w.high, highWaterLabelId: w.high });
    await store().conversations.insert(c);
    expect(await store().conversations.delete(w.lowOnly, c.id)).toBe(false);
    expect(await store().conversations.get(w.all, c.id)).toBeDefined();
  });

  it('fails to store a row without a registered label', async () => {
    const w = await world(store());
    await expect(
      store().conversations.insert(conversation(w, { labelId: 'lbl_missing' })),
    ).rejects.toMatchObject({ code: 'conflict' });
    await expect(store().items.insertMany([item(w, { labelId: 'lbl_missing' })])).rejects.toMatchObject({
      code: 'conflict',
    });
    await expect(store().responses.insert(response(w, { labelId: 'lbl_missing' }))).rejects.toMatchObject({
      code: 'conflict',
    });
  });

  it('inserts, reads, updates and deletes responses inside the scope', async () => {
    const w = await world(store());
    const r = response(w, { status: 'in_progress', completedAt: null, usage: null });
    await store().responses.insert(r);
    expect(await store().responses.get(w.all, r.id)).toEqual(r);
    expect(await store().responses.get({ tenantId: 'other', labelIds: [w.low] }, r.id)).toBeUndefined();
    const change = {
      status: 'completed' as const,
      outputItemIds: ['x', 'y'],
      usage: '{"total_tokens":3}',
      completedAt: 9,
      labelId: w.high,
    };
    expect(await store().responses.update(w.all, r.id, change)).toBe(true);
    expect(await store().responses.get(w.lowOnly, r.id)).toBeUndefined();
    expect(await store().responses.get(w.all, r.id)).toEqual({ ...r, ...change });
    expect(await store().responses.update(w.lowOnly, r.id, { status: 'failed' })).toBe(false);
    expect(await store().responses.delete(w.lowOnly, r.id)).toBe(false);
    expect(await store().responses.delete(w.all, r.id)).toBe(true);
    expect(await store().responses.get(w.all, r.id)).toBeUndefined();
  });

  it('rejects a duplicate response id', async () => {
    const w = await world(store());
    const r = response(w);
    await store().responses.insert(r);
    await expect(store().responses.insert(r)).rejects.toMatchObject({ code: 'already_exists' });
  });
});
