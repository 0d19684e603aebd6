import { randomBytes } from 'node:crypto';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { eraseUser, isSealed } from '../../src/crypto/index.js';
import { allFiles, filesContaining, rawSql, type RawSql } from '../support/raw-content.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { engines } from '../support/stores.js';

const MODEL = 'local/echo';
const lookup = {
  type: 'function' as const,
  name: 'lookup',
  parameters: { type: 'object', properties: {} },
  strict: false,
};

/** Writes `marker` through every content path of the API: response, conversation, items, tool payloads. */
async function writeMarkerEverywhere(
  client: OpenAI,
  marker: string,
): Promise<{ responseId: string; conversationId: string }> {
  const first = await client.responses.create({
    model: MODEL,
    input: `plain ${marker}-input`,
    instructions: `${marker}-instructions`,
    metadata: { note: `${marker}-metadata` },
    store: true,
  });
  const conv = await client.conversations.create({
    metadata: { note: `${marker}-conv-metadata` },
    items: [{ type: 'message', role: 'user', content: `${marker}-conv-item` }],
  });
  await client.conversations.items.create(conv.id, {
    items: [{ type: 'message', role: 'user', content: `${marker}-added-item` }],
  });
  await client.responses.create({ model: MODEL, conversation: conv.id, input: `${marker}-turn` });
  const call = await client.responses.create({
    model: MODEL,
    tools: [lookup],
    input: `call lookup {"q":"${marker}-arguments"}`,
  });
  const fc = call.output.find((o) => o.type === 'function_call');
  if (fc?.type !== 'function_call') throw new Error('the echo model made no function call');
  expect(fc.arguments).toContain(`${marker}-arguments`);
  const answered = await client.responses.create({
    model: MODEL,
    tools: [lookup],
    previous_response_id: call.id,
    input: [{ type: 'function_call_output', call_id: fc.call_id, output: `${marker}-tool-output` }],
  });
  expect(answered.status).toBe('completed');
  return { responseId: first.id, conversationId: conv.id };
}

/** Rows of every table that mention `marker`, read with plain SQL (what a database operator sees). */
async function tablesContaining(sql: RawSql, engine: string, marker: string): Promise<string[]> {
  const tables =
    engine === 'postgres'
      ? await sql.rows(
          `SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public'`,
        )
      : await sql.rows(`SELECT name FROM sqlite_master WHERE type = 'table'`);
  const hits: string[] = [];
  for (const { name } of tables) {
    const rows = await sql.rows(`SELECT * FROM "${String(name)}"`);
    if (JSON.stringify(rows).includes(marker)) hits.push(String(name));
  }
  return hits;
}

for (const engine of engines) {
  describe(`encryption at rest through the API [${engine}]`, () => {
    let server: TestServer;
    let client: OpenAI;
    let sql: RawSql;

    beforeAll(async () => {
      server = await startTestServer({ engine });
      client = new OpenAI({ baseURL: `${server.baseUrl}/v1`, apiKey: await server.key(), maxRetries: 0 });
      sql = await rawSql(server.database);
    });
    afterAll(async () => {
      await sql.close();
      await server.close();
    });

    it('leaves no marker in any content column: every one holds a sealed value', async () => {
      const marker = `MRK${randomBytes(8).toString('hex')}`;
      const written = await writeMarkerEverywhere(client, marker);
      expect(await tablesContaining(sql, engine, marker)).toEqual([]);
      const items = await sql.rows(`SELECT content FROM items`);
      const responses = await sql.rows(`SELECT instructions, tools, metadata FROM responses`);
      const conversations = await sql.rows(`SELECT metadata FROM conversations`);
      const values = [...items, ...responses, ...conversations].flatMap((r) => Object.values(r));
      expect(values.length).toBeGreaterThan(10);
      for (const value of values) if (value !== null) expect(isSealed(String(value))).toBe(true);
      // And the API still reads everything back in the clear.
      const response = await client.responses.retrieve(written.responseId);
      expect(response.instructions).toBe(`${marker}-instructions`);
      expect(response.metadata).toEqual({ note: `${marker}-metadata` });
      const conv = await client.conversations.retrieve(written.conversationId);
      expect(conv.metadata).toEqual({ note: `${marker}-conv-metadata` });
      const listed = await client.conversations.items.list(written.conversationId, { order: 'asc' });
      expect(JSON.stringify(listed.data)).toContain(`${marker}-added-item`);
    });

    it('refuses a sealed value swapped between two rows instead of answering with the wrong one', async () => {
      const conv = await client.conversations.create({
        items: [
          { type: 'message', role: 'user', content: 'first' },
          { type: 'message', role: 'user', content: 'second' },
        ],
      });
      const rows = await sql.rows(
        `SELECT id, content FROM items WHERE conversation_id = ? ORDER BY position`,
        [conv.id],
      );
      const [a, b] = rows;
      if (!a || !b) throw new Error('expected two items');
      await sql.run(`UPDATE items SET content = ? WHERE id = ?`, [b.content, a.id]);
      await expect(
        client.conversations.items.retrieve(String(a.id), { conversation_id: conv.id }),
      ).rejects.toMatchObject({ status: 500, error: { code: 'decrypt_failed' } });
      // The untouched row still opens; a response's instructions moved into another response fail too.
      const kept = await client.conversations.items.retrieve(String(b.id), { conversation_id: conv.id });
      expect(kept).toMatchObject({ type: 'message' });
      const r1 = await client.responses.create({ model: MODEL, input: 'one', instructions: 'alpha' });
      const r2 = await client.responses.create({ model: MODEL, input: 'two', instructions: 'beta' });
      const [sealed] = await sql.rows(`SELECT instructions FROM responses WHERE id = ?`, [r1.id]);
      await sql.run(`UPDATE responses SET instructions = ? WHERE id = ?`, [sealed?.instructions, r2.id]);
      await expect(client.responses.retrieve(r2.id)).rejects.toMatchObject({
        status: 500,
        error: { code: 'decrypt_failed' },
      });
    });

    it('crypto-shreds a deleted conversation and response, with a deletion receipt in the audit log', async () => {
      const conv = await client.conversations.create({
        metadata: { a: 'b' },
        items: [{ type: 'message', role: 'user', content: 'to be shredded' }],
      });
      const resp = await client.responses.create({ model: MODEL, input: 'standalone', instructions: 'x' });
      const [item] = await sql.rows(`SELECT id, label_id, content FROM items WHERE conversation_id = ?`, [
        conv.id,
      ]);
      const [respRow] = await sql.rows(`SELECT label_id, instructions FROM responses WHERE id = ?`, [
        resp.id,
      ]);
      if (!item || !respRow) throw new Error('rows missing');
      const tenant = 'tenant-a';
      const itemCtx = {
        tenant,
        objectId: String(item.id),
        kind: 'item',
        label: String(item.label_id),
        scope: `conversation:${conv.id}`,
      };
      const respCtx = {
        tenant,
        objectId: resp.id,
        kind: 'response.instructions',
        label: String(respRow.label_id),
        scope: `response:${resp.id}`,
      };
      const { cipher } = server.services.encryption;
      // Before: the saved ciphertexts open (so the failure after is the shred, not a wrong context).
      expect(await cipher.open(itemCtx, String(item.content))).toContain('to be shredded');
      expect(await cipher.open(respCtx, String(respRow.instructions))).toBe('x');
      await client.conversations.delete(conv.id);
      await client.responses.delete(resp.id);
      await expect(cipher.open(itemCtx, String(item.content))).rejects.toMatchObject({
        code: 'decrypt_failed',
      });
      await expect(cipher.open(respCtx, String(respRow.instructions))).rejects.toMatchObject({
        code: 'decrypt_failed',
      });
      const keys = await sql.rows(`SELECT id FROM data_keys WHERE scope IN (?, ?)`, [
        `conversation:${conv.id}`,
        `response:${resp.id}`,
      ]);
      expect(keys).toEqual([]);
      const entries = (await server.services.store.audit.entries(0, 100_000)).map(
        (e) =>
          JSON.parse(e.entry) as {
            type: string;
            tenant: string;
            detail?: { scope?: string; keyIds?: string[] };
          },
      );
      for (const scope of [`conversation:${conv.id}`, `response:${resp.id}`]) {
        const receipt = entries.find((e) => e.type === 'deletion.receipt' && e.detail?.scope === scope);
        expect(receipt?.tenant).toBe(tenant);
        expect(receipt?.detail?.keyIds?.length).toBe(1);
      }
    });

    it('erases a user: their conversations and responses are shredded and gone, others stay', async () => {
      const erased = new OpenAI({
        baseURL: `${server.baseUrl}/v1`,
        apiKey: await server.key(),
        maxRetries: 0,
      });
      const conv = await erased.conversations.create({
        items: [{ type: 'message', role: 'user', content: 'mine' }],
      });
      const resp = await erased.responses.create({ model: MODEL, input: 'mine too' });
      const kept = await client.responses.create({ model: MODEL, input: 'not theirs' });
      const [row] = await sql.rows(`SELECT principal FROM responses WHERE id = ?`, [resp.id]);
      const report = await eraseUser(
        server.services.store,
        server.services.encryption,
        'tenant-a',
        String(row?.principal),
      );
      expect(report).toMatchObject({ conversations: 1, responses: 1 });
      const left = await sql.rows(
        `SELECT id FROM items WHERE conversation_id = ? OR response_id = ? UNION ALL
         SELECT id FROM responses WHERE id = ? UNION ALL SELECT id FROM conversations WHERE id = ? UNION ALL
         SELECT id FROM data_keys WHERE scope IN (?, ?)`,
        [conv.id, resp.id, resp.id, conv.id, `conversation:${conv.id}`, `response:${resp.id}`],
      );
      expect(left).toEqual([]);
      expect((await client.responses.retrieve(kept.id)).output_text).toContain('not theirs');
    });

    it('denies a request whose audit append fails and leaves no half-written state', async () => {
      const conv = await client.conversations.create({
        items: [{ type: 'message', role: 'user', content: 'kept' }],
      });
      const count = async () => {
        const [r] = await sql.rows(`SELECT COUNT(*) AS n FROM responses`);
        const [i] = await sql.rows(`SELECT COUNT(*) AS n FROM items`);
        const [k] = await sql.rows(`SELECT COUNT(*) AS n FROM data_keys`);
        return { responses: Number(r?.n), items: Number(i?.n), keys: Number(k?.n) };
      };
      const before = await count();
      // The audit store fails for everything after authentication: the request is mid-way when it hits it.
      const append = server.services.audit.append.bind(server.services.audit);
      const spy = vi.spyOn(server.services.audit, 'append').mockImplementation(async (entry) => {
        if (entry.type.startsWith('auth.')) return append(entry);
        throw Object.assign(new Error('audit store down'), { code: 'audit_unavailable' });
      });
      try {
        await expect(
          client.responses.create({ model: MODEL, input: 'audited turn', conversation: conv.id }),
        ).rejects.toMatchObject({ status: expect.any(Number) as number });
        await expect(client.responses.create({ model: MODEL, input: 'audited turn' })).rejects.toBeDefined();
        // Deleting needs its deletion receipt first: without it nothing is deleted or shredded.
        await expect(client.conversations.delete(conv.id)).rejects.toBeDefined();
      } finally {
        spy.mockRestore();
      }
      expect(await count()).toEqual(before);
      const items = await client.conversations.items.list(conv.id);
      expect(items.data.map((i) => (i.type === 'message' ? i.content : null))).toHaveLength(1);
    });
  });
}

describe('no plaintext in any file of the data dir [sqlite]', () => {
  it('finds a unique marker written through the API in no file, while serving and after closing', async () => {
    const server = await startTestServer({ engine: 'sqlite' });
    try {
      const client = new OpenAI({
        baseURL: `${server.baseUrl}/v1`,
        apiKey: await server.key(),
        maxRetries: 0,
      });
      const marker = `MRK${randomBytes(8).toString('hex')}`;
      await writeMarkerEverywhere(client, marker);
      const files = allFiles(server.database.dataDir).map((f) => f.slice(server.database.dataDir.length));
      expect(files).toEqual(expect.arrayContaining(['/enclave.db', '/enclave.db-wal']));
      expect(filesContaining(server.database.dataDir, marker)).toEqual([]);
      await server.app.close();
      await server.services.close();
      expect(filesContaining(server.database.dataDir, marker)).toEqual([]);
    } finally {
      await server.database.drop();
    }
  });
});
