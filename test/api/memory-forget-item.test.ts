import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { settleMemory } from '../support/memory-settle.js';
import { rawSql, type RawSql } from '../support/raw-content.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { engines } from '../support/stores.js';

const MODEL = 'local/echo';
const TENANT = 'tenant-a';
const TABLES = ['memory_sources', 'memory_records', 'memory_record_sources', 'memory_terms'] as const;

for (const engine of engines) {
  describe(`deleting one conversation item forgets what memory learned from it [${engine}]`, () => {
    let server: TestServer;
    let sql: RawSql;
    let alice: OpenAI;

    beforeAll(async () => {
      server = await startTestServer({
        engine,
        configFile: { memory: { enabled: true, workerIntervalMs: 3_600_000 } },
      });
      sql = await rawSql(server.database);
      alice = new OpenAI({ baseURL: `${server.baseUrl}/v1`, apiKey: await server.key(), maxRetries: 0 });
    });
    afterAll(async () => {
      await sql?.close();
      await server?.close();
    });

    const count = async (table: string, where: string, params: unknown[] = []) =>
      Number(
        (
          await sql.rows(
            table === 'memory_record_sources' || table === 'memory_terms'
              ? `SELECT COUNT(*) AS n FROM ${table} x JOIN memory_records r ON r.id = x.record_id WHERE r.tenant_id = '${TENANT}' AND ${where.replace(/\bconversation_id\b/g, 'r.conversation_id')}`
              : `SELECT COUNT(*) AS n FROM ${table} WHERE tenant_id = '${TENANT}' AND ${where}`,
            params,
          )
        )[0]?.n,
      );
    const counts = async (conversationId: string) =>
      Object.fromEntries(
        await Promise.all(
          TABLES.map(async (t) => [t, await count(t, 'conversation_id = ?', [conversationId])]),
        ),
      ) as Record<(typeof TABLES)[number], number>;
    const receipts = async (target: string) => {
      const head = await server.services.store.audit.head();
      return (await server.services.store.audit.entries(0, head.treeSize))
        .map((e) => JSON.parse(e.entry) as { type: string; detail?: Record<string, unknown> })
        .filter(
          (e) => e.type === 'deletion.receipt' && e.detail?.scope === 'memory' && e.detail.target === target,
        );
    };

    it('takes the turn, its episode and facts only it established; keeps merged facts; re-indexes neighbours', async () => {
      const conv = await alice.conversations.create({});
      const say = (input: string) => alice.responses.create({ model: MODEL, conversation: conv.id, input });
      await say('I live in Lisbon.');
      await say('Yesterday we watched the zanzibarian kites. I like green tea.');
      await say('I live in Lisbon.');
      await settleMemory(sql, () => server.services.memory.service.drainJobs());
      const [owner] = await sql.rows(
        `SELECT DISTINCT user_id FROM memory_sources WHERE conversation_id = ?`,
        [conv.id],
      );
      const userId = String(owner?.user_id);
      const reader = {
        scope: { tenantId: TENANT, labelIds: (await server.services.store.labels.list()).map((l) => l.id) },
        userId,
        agentId: '',
      };
      const recall = (query: string) => server.services.memory.service.recall(reader, query, { k: 10 });
      // The user turns, in order (runtime turn id = item id).
      const turns = await sql.rows(
        `SELECT id, item_id FROM memory_sources WHERE conversation_id = ? ORDER BY seq`,
        [conv.id],
      );
      const items = (await alice.conversations.items.list(conv.id, { order: 'asc' })).data;
      const userItems = items.filter((i) => i.type === 'message' && i.role === 'user').map((i) => i.id);
      expect(userItems).toHaveLength(3);
      expect(turns.map((t) => t.item_id)).toEqual(expect.arrayContaining(userItems));
      const [first, middle, third] = userItems as [string, string, string];
      // local/echo repeats the input: the reply to the middle turn holds its words too.
      const echo = items[items.findIndex((i) => i.id === middle) + 1]?.id ?? '';

      // "Lisbon" was said twice: one fact, two turns of provenance.
      const lisbon = async () =>
        (await recall('Where do I live? Lisbon')).filter((h) => h.record.subject === 'user');
      const fact = (await lisbon())[0];
      expect(fact?.record.sourceIds).toEqual(expect.arrayContaining([first, third]));
      // The middle turn's own word is also in its neighbours' episodes (neighbour context).
      const kites = await recall('zanzibarian kites');
      expect(kites.filter((h) => h.record.kind === 'episode').length).toBeGreaterThan(1);
      const tea = (await recall('green tea')).filter(
        (h) => h.record.kind !== 'episode' && h.record.sourceIds.includes(middle),
      );
      expect(tea.length).toBeGreaterThan(0);

      const before = await counts(conv.id);
      await alice.conversations.items.delete(middle, { conversation_id: conv.id });
      const after = await counts(conv.id);
      // The turn and its episode went; the preference only it stated went with its terms and links.
      expect(await count('memory_sources', 'item_id = ?', [middle])).toBe(0);
      expect(after.memory_sources).toBe(before.memory_sources - 1);
      expect(after.memory_records).toBeLessThan(before.memory_records - 1);
      expect(after.memory_terms).toBeLessThan(before.memory_terms);
      expect(after.memory_record_sources).toBeLessThan(before.memory_record_sources);
      expect((await recall('green tea')).filter((h) => h.record.sourceIds.includes(middle))).toEqual([]);
      const receipt = await receipts(`item ${conv.id} ${middle}`);
      expect(receipt).toHaveLength(1);
      expect(receipt[0]?.detail).toMatchObject({ sources: 1 });
      expect(Number(receipt[0]?.detail?.records)).toBeGreaterThan(1);
      // With its echo gone too, no episode holds the forgotten words, not even as a neighbour's context.
      await alice.conversations.items.delete(echo, { conversation_id: conv.id });
      expect(await recall('zanzibarian kites')).toEqual([]);
      // No link or term points at something gone.
      expect(
        await count(
          'memory_record_sources',
          'NOT EXISTS (SELECT 1 FROM memory_sources s WHERE s.id = x.source_id)',
        ),
      ).toBe(0);
      expect(
        Number(
          (
            await sql.rows(
              `SELECT COUNT(*) AS n FROM memory_terms t WHERE NOT EXISTS (SELECT 1 FROM memory_records r WHERE r.id = t.record_id)`,
            )
          )[0]?.n,
        ),
      ).toBe(0);

      // Deleting one of the two Lisbon turns keeps the fact (the other turn still says it), minus that turn.
      await alice.conversations.items.delete(first, { conversation_id: conv.id });
      const kept = (await lisbon()).find((h) => h.record.id === fact?.record.id);
      expect(kept?.record.sourceIds).toEqual([third]);
      // And deleting the last one forgets it.
      await alice.conversations.items.delete(third, { conversation_id: conv.id });
      expect((await lisbon()).find((h) => h.record.id === fact?.record.id)).toBeUndefined();
      expect(await count('memory_sources', `item_id IN ('${first}', '${middle}', '${third}')`)).toBe(0);
      expect(
        Number(
          (
            await sql.rows(
              `SELECT COUNT(*) AS n FROM memory_records r WHERE r.conversation_id = ? AND NOT EXISTS (SELECT 1 FROM memory_record_sources l WHERE l.record_id = r.id)`,
              [conv.id],
            )
          )[0]?.n,
        ),
      ).toBe(0);
    });
  });
}
