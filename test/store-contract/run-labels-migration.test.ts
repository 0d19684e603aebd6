import { Migrator, type Kysely } from 'kysely';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrations } from '../../src/store/migrations/index.js';
import { openPostgres } from '../../src/store/postgres/open-postgres.js';
import { labelId } from '../../src/store/repos/label-repo.js';
import type { Database } from '../../src/store/schema.js';
import { openSqlite } from '../../src/store/sqlite/open-sqlite.js';
import { createTestDatabase, engines, type TestDatabase } from '../support/stores.js';

/** Migrates up to (and including) `last`, or to the newest migration when `last` is undefined. */
async function migrate(db: Kysely<Database>, dialect: 'sqlite' | 'postgres', last?: string) {
  const upTo =
    last === undefined ? migrations : migrations.slice(0, migrations.findIndex((m) => m.name === last) + 1);
  const migrator = new Migrator({
    db,
    provider: {
      getMigrations: async () =>
        Object.fromEntries(upTo.map((m) => [m.name, { up: (d: Kysely<unknown>) => m.up(d, dialect) }])),
    },
  });
  const { error } = await migrator.migrateToLatest();
  if (error) throw error;
}

for (const engine of engines) {
  describe(`migration 0013-run-labels backfills run rows [${engine}]`, () => {
    let database: TestDatabase;
    let db: Kysely<Database>;
    beforeAll(async () => {
      database = await createTestDatabase(engine);
      db = database.databaseUrl
        ? openPostgres({ url: database.databaseUrl }).db
        : openSqlite({ path: join(database.dataDir, 'enclave.db') }).db;
    });
    afterAll(async () => {
      await db.destroy();
      await database.drop();
    });

    it('labels a run from its response, else from its approval requester’s clearance, else leaves it invisible', async () => {
      await migrate(db, engine, '0012-api-key-default-label');
      const q = db as unknown as Kysely<Record<string, Record<string, unknown>>>;
      const secret = labelId('SECRET');
      await q.insertInto('tenants').values({ id: 't', created_at: 1 }).execute();
      await q.insertInto('labels').values({ id: secret, canonical: 'SECRET', created_at: 1 }).execute();
      await q
        .insertInto('api_keys')
        .values({
          id: 'key_a',
          tenant_id: 't',
          name: 'a',
          role: 'user',
          clearance: 'CONFIDENTIAL',
          authorizations: '[]',
          key_hash: 'h',
          created_at: 1,
        })
        .execute();
      const run = (id: string) => ({
        id,
        tenant_id: 't',
        kind: 'response',
        status: 'requires_action',
        conversation_id: null,
        input: '"sealed"',
        next_event_seq: 1,
        created_at: 1,
        updated_at: 1,
      });
      await q
        .insertInto('runs')
        .values([run('r_done'), run('r_parked'), run('r_orphan')])
        .execute();
      await q
        .insertInto('responses')
        .values({
          id: 'r_done',
          tenant_id: 't',
          label_id: secret,
          status: 'completed',
          model: 'm',
          principal: 'key_a',
          input_item_ids: '[]',
          context_item_ids: '[]',
          output_item_ids: '[]',
          params: '{}',
          tools: '[]',
          metadata: '{}',
          created_at: 1,
        })
        .execute();
      for (const id of ['r_done', 'r_parked', 'r_orphan']) {
        await q
          .insertInto('run_events')
          .values({ run_id: id, seq: 0, type: 'x', data: '"d"', created_at: 1 })
          .execute();
        await q
          .insertInto('run_steps')
          .values({
            run_id: id,
            step_index: 0,
            kind: 'approval_wait',
            name: 'n',
            status: 'started',
            idempotency_key: `${id}:0`,
            attempts: 1,
            started_at: 1,
          })
          .execute();
      }
      await q
        .insertInto('approvals')
        .values({
          id: 'a_parked',
          tenant_id: 't',
          run_id: 'r_parked',
          step_index: 0,
          source: 'mcp',
          tool_name: 'add',
          arguments: '"sealed"',
          status: 'pending',
          requested_by: 'key_a',
          created_at: 1,
        })
        .execute();

      await migrate(db, engine);
      const labelOf = async (table: 'runs' | 'run_steps' | 'run_events', id: string) =>
        (
          await db
            .selectFrom(table)
            .select('label_id')
            .where(table === 'runs' ? 'id' : 'run_id', '=', id)
            .executeTakeFirstOrThrow()
        ).label_id;
      const confidential = labelId('CONFIDENTIAL');
      for (const table of ['runs', 'run_steps', 'run_events'] as const) {
        expect(await labelOf(table, 'r_done'), table).toBe(secret);
        expect(await labelOf(table, 'r_parked'), table).toBe(confidential);
        expect(await labelOf(table, 'r_orphan'), table).toBeNull();
      }
      const approval = await db.selectFrom('approvals').select('label_id').executeTakeFirstOrThrow();
      expect(approval.label_id).toBe(confidential);
      const catalogue = await db
        .selectFrom('labels')
        .select('canonical')
        .where('id', '=', confidential)
        .execute();
      expect(catalogue).toEqual([{ canonical: 'CONFIDENTIAL' }]);
    });
  });
}
