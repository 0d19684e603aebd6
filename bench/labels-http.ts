/**
 * Label check cost in the store, per listed page and per item: a conversation's items listed a page of 20 at a
 * time through the item repository with a real ReadScope (tenant + the visible label ids of a clearance, i.e.
 * `label_id IN (…)` in the WHERE clause), against the same query with the label filter removed — same
 * database, same run, interleaved. Plus GET of one item (by id) both ways. SQLite in a temp dir, or PostgreSQL
 * when DATABASE_URL is set. Run: npx tsx bench/labels-http.ts (about 10 s).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Kysely } from 'kysely';
import { canonicalLabel, parseCanonicalLabel, visibleLabelIds, type Label } from '../src/labels/index.js';
import { migrateToLatest } from '../src/store/migrate.js';
import { openPostgres } from '../src/store/postgres/open-postgres.js';
import type { ReadScope } from '../src/store/read-scope.js';
import { itemRepo } from '../src/store/repos/item-repo.js';
import { labelId } from '../src/store/repos/label-repo.js';
import type { Database } from '../src/store/schema.js';
import { openSqlite } from '../src/store/sqlite/open-sqlite.js';
import { percentile } from './support.js';

const ITEMS = 2_000;
const PAGE = 20;
const ROUNDS = 400;

const dir = mkdtempSync(join(tmpdir(), 'enclave-bench-labels-'));
const url = process.env.DATABASE_URL;
const db: Kysely<Database> = url
  ? openPostgres({ url }).db
  : (openSqlite({ path: join(dir, 'bench.db'), key: undefined }).db as unknown as Kysely<Database>);
await migrateToLatest(db as Kysely<unknown>, url ? 'postgres' : 'sqlite');

// A catalogue of distinct labels like a real deployment's; items get labels the reader can read, so both
// queries return the same rows and the difference is the label check alone.
const levels = ['UNCLASSIFIED', 'CONFIDENTIAL', 'SECRET'];
const extras = ['', '//SI', '//TK', '//SI/TK', '//NOFORN', '//REL TO USA, GBR', '//SI//NOFORN'];
const labels: Label[] = [];
for (const level of levels)
  for (const extra of extras)
    for (const access of ['', ' ACCESS=A', ' ACCESS=A&(B|C)', ' ACCESS=X'])
      labels.push(
        parseCanonicalLabel(
          `${level}${level === 'UNCLASSIFIED' && /SI|TK/.test(extra) ? '' : extra}${access}`,
        ),
      );
const catalog = [...new Map(labels.map((l) => [canonicalLabel(l), l])).keys()].map((canonical) => ({
  id: labelId(canonical),
  canonical,
}));
const now = Date.now();
const tenant = `bench_${now}`;
await db
  .insertInto('tenants')
  .values({ id: tenant, created_at: now } as never)
  .execute();
for (const entry of catalog)
  await db
    .insertInto('labels')
    .values({ ...entry, created_at: now })
    .onConflict((oc) => oc.column('id').doNothing())
    .execute();
const clearance = { label: parseCanonicalLabel('TOP SECRET//SI/TK'), authorizations: ['A', 'B'] };
const visible = visibleLabelIds(catalog, clearance);
const scope: ReadScope = { tenantId: tenant, labelIds: visible };
const conversation = `conv_bench_${now}`;
await db
  .insertInto('conversations')
  .values({
    id: conversation,
    tenant_id: tenant,
    label_id: visible[0] ?? '',
    high_water_label_id: visible[0] ?? '',
    metadata: '{}',
    next_position: ITEMS,
    principal: 'bench',
    created_at: now,
    updated_at: now,
  })
  .execute();
const rows = Array.from({ length: ITEMS }, (_, i) => ({
  id: `item_${i}`,
  tenant_id: tenant,
  label_id: visible[i % visible.length] ?? '',
  conversation_id: conversation,
  response_id: null,
  position: i,
  type: 'message',
  role: 'user',
  status: 'completed',
  call_id: null,
  content: JSON.stringify({ content: [{ type: 'input_text', text: `message ${i}` }] }),
  created_at: now,
}));
for (let i = 0; i < rows.length; i += 200)
  await db
    .insertInto('items')
    .values(rows.slice(i, i + 200))
    .execute();

const repo = itemRepo(db, 'sqlite');
/** The repository's page query, label filter removed: the baseline. */
async function pageUnlabelled(after: string | undefined) {
  let query = db
    .selectFrom('items')
    .selectAll()
    .where('tenant_id', '=', tenant)
    .where('conversation_id', '=', conversation);
  if (after !== undefined) {
    const cursor = await db
      .selectFrom('items')
      .selectAll()
      .where('tenant_id', '=', tenant)
      .where('conversation_id', '=', conversation)
      .where('id', '=', after)
      .executeTakeFirst();
    if (!cursor) return [];
    query = query.where('position', '>', cursor.position);
  }
  return query
    .orderBy('position', 'asc')
    .limit(PAGE + 1)
    .execute();
}
const getUnlabelled = (id: string) =>
  db.selectFrom('items').selectAll().where('tenant_id', '=', tenant).where('id', '=', id).executeTakeFirst();

const samples = {
  page: [] as number[],
  pageBase: [] as number[],
  get: [] as number[],
  getBase: [] as number[],
};
const timed = async (into: number[], fn: () => Promise<unknown>) => {
  const start = process.hrtime.bigint();
  await fn();
  into.push(Number(process.hrtime.bigint() - start) / 1000);
};
for (let r = 0; r < ROUNDS; r++) {
  const at = (r * 37) % (ITEMS - PAGE - 1);
  const after = `item_${at}`;
  // Alternate which goes first so caches warm both the same way.
  const pair = [
    () =>
      timed(samples.page, () =>
        repo.listConversation(scope, conversation, { after, limit: PAGE, order: 'asc' }),
      ),
    () => timed(samples.pageBase, () => pageUnlabelled(after)),
    () => timed(samples.get, () => repo.get(scope, after)),
    () => timed(samples.getBase, () => getUnlabelled(after)),
  ];
  for (const run of r % 2 ? pair.reverse() : pair) await run();
}
const check = await repo.listConversation(scope, conversation, {
  after: 'item_0',
  limit: PAGE,
  order: 'asc',
});
if (check.data.length !== PAGE)
  throw new Error('labelled page is short: the bench would compare unequal work');

const p50 = (xs: number[]) => percentile(xs, 50);
const row = (name: string, labelled: number[], base: number[]) =>
  `| ${name} | ${p50(labelled).toFixed(0)} | ${p50(base).toFixed(0)} | ${(p50(labelled) / p50(base)).toFixed(2)} | ${(p50(labelled) - p50(base)).toFixed(0)} |`;
console.log(
  [
    `engine ${url ? 'postgres' : 'sqlite'}; ${ITEMS} items, ${catalog.length} catalogue labels, ${visible.length} visible; ${ROUNDS} rounds`,
    '| query | labelled p50 µs | unlabelled p50 µs | ratio | label cost µs |',
    '|---|---:|---:|---:|---:|',
    row(`list page of ${PAGE}`, samples.page, samples.pageBase),
    row('get one item', samples.get, samples.getBase),
    `per item of a page: ${((p50(samples.page) - p50(samples.pageBase)) / PAGE).toFixed(2)} µs`,
  ].join('\n'),
);
await db.destroy();
rmSync(dir, { recursive: true, force: true });
