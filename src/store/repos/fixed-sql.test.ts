import {
  Kysely,
  PostgresAdapter,
  PostgresQueryCompiler,
  SqliteAdapter,
  SqliteIntrospector,
  SqliteQueryCompiler,
  type CompiledQuery,
  type DatabaseConnection,
  type Driver,
  type QueryResult,
} from 'kysely';
import { describe, expect, it } from 'vitest';
import type { Dialect } from '../migrations/migration.js';
import type { Database } from '../schema.js';
import { apiKeyRepo } from './api-key-repo.js';
import { conversationLeaseRepo } from './conversation-lease-repo.js';
import { conversationRepo } from './conversation-repo.js';
import { dataKeyRepo } from './data-key-repo.js';
import { itemRepo, type ItemRecord } from './item-repo.js';
import { responseRepo, type ResponseRecord } from './response-repo.js';
import { safetyRepo } from './safety-repo.js';

/** A Kysely instance of `dialect` that runs nothing and keeps every query it was handed; `answer` makes up rows. */
function recording(
  dialect: Dialect,
  answer: (query: CompiledQuery) => unknown[] = () => [],
): { db: Kysely<Database>; seen: CompiledQuery[] } {
  const seen: CompiledQuery[] = [];
  const connection: DatabaseConnection = {
    executeQuery: <R>(query: CompiledQuery): Promise<QueryResult<R>> => {
      seen.push(query);
      return Promise.resolve({ rows: answer(query) as R[] });
    },
    streamQuery: () => {
      throw new Error('not used');
    },
  };
  const driver: Driver = {
    init: async () => undefined,
    acquireConnection: async () => connection,
    beginTransaction: async () => undefined,
    commitTransaction: async () => undefined,
    rollbackTransaction: async () => undefined,
    releaseConnection: async () => undefined,
    destroy: async () => undefined,
  };
  const db = new Kysely<Database>({
    dialect: {
      createAdapter: () => (dialect === 'sqlite' ? new SqliteAdapter() : new PostgresAdapter()),
      createDriver: () => driver,
      createIntrospector: (k) => new SqliteIntrospector(k),
      createQueryCompiler: () =>
        dialect === 'sqlite' ? new SqliteQueryCompiler() : new PostgresQueryCompiler(),
    },
  });
  return { db, seen };
}

const scope = { tenantId: 'ten_1', labelIds: ['lbl_a', 'lbl_b'] };
const response: ResponseRecord = {
  id: 'resp_1',
  tenantId: 'ten_1',
  labelId: 'lbl_a',
  status: 'completed',
  model: 'm',
  endpoint: null,
  provider: 'p',
  principal: 'key_1',
  previousResponseId: null,
  conversationId: null,
  inputItemIds: ['i1'],
  contextItemIds: [],
  outputItemIds: ['i2'],
  params: '{}',
  instructions: null,
  tools: '[]',
  metadata: '{}',
  usage: null,
  error: null,
  incompleteReason: null,
  latencyMs: 5,
  createdAt: 1,
  completedAt: 2,
};
const item = (id: string): ItemRecord => ({
  id,
  tenantId: 'ten_1',
  labelId: 'lbl_a',
  conversationId: null,
  responseId: 'resp_1',
  position: 0,
  type: 'message',
  role: 'user',
  status: 'completed',
  callId: null,
  content: '{}',
  createdAt: 1,
});

// The fixed texts must be exactly what the query builder wrote for the same statement (so both engines run
// what they ran before, and statement caches keep their keys), with the parameters in the same order.
describe.each(['sqlite', 'postgres'] as const)('fixed SQL texts on %s', (dialect) => {
  const { db, seen } = recording(dialect);
  const last = () => {
    const query = seen.at(-1);
    if (!query) throw new Error('no query ran');
    return { sql: query.sql, parameters: [...query.parameters] };
  };
  const same = (built: { compile(): CompiledQuery }) => {
    const query = built.compile();
    expect(last()).toEqual({ sql: query.sql, parameters: [...query.parameters] });
  };

  it('responses: insert and get', async () => {
    await responseRepo(db, dialect).insert(response);
    same(
      db.insertInto('responses').values({
        id: 'resp_1',
        tenant_id: 'ten_1',
        label_id: 'lbl_a',
        status: 'completed',
        model: 'm',
        endpoint: null,
        provider: 'p',
        principal: 'key_1',
        previous_response_id: null,
        conversation_id: null,
        input_item_ids: '["i1"]',
        context_item_ids: '[]',
        output_item_ids: '["i2"]',
        params: '{}',
        instructions: null,
        tools: '[]',
        metadata: '{}',
        usage: null,
        error: null,
        incomplete_reason: null,
        latency_ms: 5,
        created_at: 1,
        completed_at: 2,
      }),
    );
    await responseRepo(db, dialect).get(scope, 'resp_1');
    same(
      db
        .selectFrom('responses')
        .selectAll()
        .where('tenant_id', '=', 'ten_1')
        .where('label_id', 'in', ['lbl_a', 'lbl_b'])
        .where('id', '=', 'resp_1'),
    );
  });

  it('items: insert in chunks of 50, get, byIds', async () => {
    const repo = itemRepo(db, dialect);
    const records = Array.from({ length: 51 }, (_, i) => item(`i${i}`));
    const before = seen.length;
    await repo.insertMany(records);
    expect(seen.length - before).toBe(2);
    const toRow = (r: ItemRecord) => ({
      id: r.id,
      tenant_id: r.tenantId,
      label_id: r.labelId,
      conversation_id: r.conversationId,
      response_id: r.responseId,
      position: r.position,
      type: r.type,
      role: r.role,
      status: r.status,
      call_id: r.callId,
      content: r.content,
      created_at: r.createdAt,
    });
    same(db.insertInto('items').values(records.slice(50).map(toRow)));
    expect(seen.at(-2)?.sql).toBe(
      db.insertInto('items').values(records.slice(0, 50).map(toRow)).compile().sql,
    );
    await repo.get(scope, 'i1');
    const visible = db
      .selectFrom('items')
      .selectAll()
      .where('tenant_id', '=', 'ten_1')
      .where('label_id', 'in', ['lbl_a', 'lbl_b']);
    same(visible.where('id', '=', 'i1'));
    await repo.byIds({ tenantId: 'ten_1', labelIds: [] }, ['i1', 'i2', 'i3']);
    same(
      db
        .selectFrom('items')
        .selectAll()
        .where('tenant_id', '=', 'ten_1')
        .where('label_id', 'in', ['!no-visible-label'])
        .where('id', 'in', ['i1', 'i2', 'i3']),
    );
  });

  it('conversations: get, get for an append, advance', async () => {
    const repo = conversationRepo(db, dialect);
    const visible = db
      .selectFrom('conversations')
      .selectAll()
      .where('tenant_id', '=', 'ten_1')
      .where('label_id', 'in', ['lbl_a', 'lbl_b'])
      .where('id', '=', 'conv_1');
    await repo.get(scope, 'conv_1');
    same(visible);
    await repo.getForAppend(scope, 'conv_1');
    same(dialect === 'postgres' ? visible.forUpdate() : visible);
    // Nothing is returned here, so the repo reports the row gone after running the update.
    await expect(
      repo.advance(scope, 'conv_1', { count: 2, highWaterLabelId: 'lbl_b', now: 5 }),
    ).rejects.toThrow(/vanished/);
    same(
      db
        .updateTable('conversations')
        .set((eb) => ({
          next_position: eb('next_position', '+', 2),
          high_water_label_id: 'lbl_b',
          updated_at: 5,
        }))
        .where('tenant_id', '=', 'ten_1')
        .where('label_id', 'in', ['lbl_a', 'lbl_b'])
        .where('id', '=', 'conv_1')
        .returning('next_position'),
    );
  });

  it('conversation leases: acquire, fence, release', async () => {
    const repo = conversationLeaseRepo(db, dialect);
    expect(await repo.tryAcquire('conv_1', 'w1', 1000, 10)).toBeUndefined();
    expect(seen.at(-2)).toMatchObject({
      sql: db
        .insertInto('conversation_leases')
        .values({ conversation_id: 'conv_1', holder: null, token: 0, expires_at: 0 })
        .onConflict((oc) => oc.column('conversation_id').doNothing())
        .compile().sql,
      parameters: ['conv_1', null, 0, 0],
    });
    same(
      db
        .updateTable('conversation_leases')
        .set((eb) => ({ holder: 'w1', token: eb('token', '+', 1), expires_at: 1010 }))
        .where('conversation_id', '=', 'conv_1')
        .where((eb) => eb.or([eb('holder', 'is', null), eb('expires_at', '<=', 10)]))
        .returning(['token', 'expires_at']),
    );
    await expect(repo.assertFence('conv_1', 3, 10)).rejects.toMatchObject({ code: 'conflict' });
    same(
      db
        .updateTable('conversation_leases')
        .set((eb) => ({ token: eb.ref('token') }))
        .where('conversation_id', '=', 'conv_1')
        .where('token', '=', 3)
        .where('holder', 'is not', null)
        .where('expires_at', '>', 10),
    );
    expect(await repo.release({ conversationId: 'conv_1', holder: 'w1', token: 3, expiresAt: 1 })).toBe(
      false,
    );
    same(
      db
        .updateTable('conversation_leases')
        .set({ holder: null, expires_at: 0 })
        .where('conversation_id', '=', 'conv_1')
        .where('token', '=', 3),
    );
  });

  it('items: the conversation context from the latest compaction on', async () => {
    await itemRepo(db, dialect).conversationContext(scope, 'conv_1');
    const visible = db
      .selectFrom('items')
      .selectAll()
      .where('tenant_id', '=', 'ten_1')
      .where('label_id', 'in', ['lbl_a', 'lbl_b'])
      .where('conversation_id', '=', 'conv_1');
    expect(seen.at(-2)).toMatchObject({
      sql: visible
        .clearSelect()
        .select((eb) => eb.fn.max('position').as('position'))
        .where('type', '=', 'compaction')
        .compile().sql,
      parameters: ['ten_1', 'lbl_a', 'lbl_b', 'conv_1', 'compaction'],
    });
    // No compaction item was found (the recording runs nothing): the context starts at the beginning.
    same(visible.orderBy('position', 'asc'));
    // With one at position 4 it starts there.
    const withCompaction = recording(dialect, (q) => (q.sql.includes('max(') ? [{ position: 4 }] : []));
    await itemRepo(withCompaction.db, dialect).conversationContext(scope, 'conv_1');
    const query = visible.where('position', '>=', 4).orderBy('position', 'asc').compile();
    expect(withCompaction.seen.at(-1)).toMatchObject({ sql: query.sql, parameters: query.parameters });
  });

  it('api keys: by hash', async () => {
    await apiKeyRepo(db, dialect).byHash('h');
    same(db.selectFrom('api_keys').selectAll().where('key_hash', '=', 'h'));
  });

  it('data keys: insert-or-get and the generation lookup', async () => {
    const record = {
      id: 'dk_1',
      tenantId: 'ten_1',
      scope: 'response:resp_1',
      generation: 1,
      kekVersion: 1,
      provider: 'local',
      wrapped: 'w',
      createdAt: 1,
      rewrappedAt: null,
    };
    // Nothing is inserted here (no rows affected), so the repo reads the "winner" and finds none.
    await expect(dataKeyRepo(db, dialect).insertOrGet(record)).rejects.toThrow(/vanished/);
    expect(seen.at(-2)?.sql).toBe(
      db
        .insertInto('data_keys')
        .values({
          id: 'dk_1',
          tenant_id: 'ten_1',
          scope: 'response:resp_1',
          generation: 1,
          kek_version: 1,
          provider: 'local',
          wrapped: 'w',
          created_at: 1,
          rewrapped_at: null,
        })
        .onConflict((oc) => oc.columns(['tenant_id', 'scope', 'generation']).doNothing())
        .compile().sql,
    );
    same(
      db
        .selectFrom('data_keys')
        .selectAll()
        .where('tenant_id', '=', 'ten_1')
        .where('scope', '=', 'response:resp_1')
        .where('generation', '=', 1),
    );
  });

  it('safety verdicts: insert', async () => {
    await safetyRepo(db, dialect).insertVerdict({
      id: 'sv_1',
      tenantId: 'ten_1',
      surface: 'input',
      subject: null,
      action: 'allow',
      flagged: false,
      score: 0.5,
      categories: [],
      policyVersion: 'p1',
      modelVersion: 'm1',
      textSha256: 'abc',
      createdAt: 1,
    });
    same(
      db.insertInto('safety_verdicts').values({
        id: 'sv_1',
        tenant_id: 'ten_1',
        surface: 'input',
        subject: null,
        action: 'allow',
        flagged: 0,
        score: 0.5,
        categories: '[]',
        policy_version: 'p1',
        model_version: 'm1',
        text_sha256: 'abc',
        created_at: 1,
      }),
    );
  });
});
