import { randomBytes } from 'node:crypto';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyLog } from '../../src/audit/index.js';
import { eraseUser, isSealed } from '../../src/crypto/index.js';
import { startMcpHttpServer } from '../support/mcp-test-server.js';
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

/** An MCP server `calc` whose every call waits for approval (the `approvals` table gets the arguments). */
const mcpConfig = (url: string) => ({
  tools: { mcp_servers: { calc: { url, require_approval: 'always', label: 'UNCLASSIFIED' } } },
});

async function settled(client: OpenAI, id: string) {
  for (;;) {
    const r = await client.responses.retrieve(id);
    if (r.status !== 'queued' && r.status !== 'in_progress') return r;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/**
 * Writes `marker` through the durable-run paths: a background response (`runs.input`, `run_steps`), a
 * streamed background response (`run_events`), and an MCP tool call parked on approval (`approvals`), then
 * approved with a reason, whose tool output (`deleted <marker>…`) lands in the run's steps and events.
 */
async function writeMarkerThroughRuns(client: OpenAI, marker: string): Promise<{ mcpResponseId: string }> {
  const background = await client.responses.create({
    model: MODEL,
    input: `${marker}-background`,
    instructions: `${marker}-bg-instructions`,
    background: true,
  });
  expect((await settled(client, background.id)).output_text).toContain(`${marker}-background`);
  const stream = await client.responses.create({
    model: MODEL,
    input: `${marker}-stream`,
    background: true,
    stream: true,
  });
  let streamed = '';
  for await (const event of stream) if (event.type === 'response.output_text.delta') streamed += event.delta;
  expect(streamed).toContain(`${marker}-stream`);
  const tools = [{ type: 'mcp' as const, server_label: 'calc', require_approval: 'always' as const }];
  const parked = await client.responses.create({
    model: MODEL,
    input: `call mcp_calc_delete_record {"id":"${marker}-mcp"}`,
    tools,
  });
  expect(parked.status as string).toBe('requires_action');
  const request = parked.output.find((o) => o.type === 'mcp_approval_request');
  if (request?.type !== 'mcp_approval_request') throw new Error('the call was not parked on approval');
  const done = await client.responses.create({
    model: MODEL,
    previous_response_id: parked.id,
    input: [
      {
        type: 'mcp_approval_response',
        approval_request_id: request.id,
        approve: true,
        reason: `${marker}-decision`,
      },
    ],
    tools,
  });
  expect(done.status).toBe('completed');
  const call = done.output.find((o) => o.type === 'mcp_call');
  expect(call?.type === 'mcp_call' && call.output).toBe(`deleted ${marker}-mcp`);
  return { mcpResponseId: done.id };
}

/**
 * Reviewer-written text: a downgrade request's justification (`label_downgrades.reason`) and a safety
 * reviewer's note (`safety_reviews.note`; the test server flags every text, so the queue is never empty),
 * each read back through the API.
 */
async function writeMarkerAsReviewer(server: TestServer, marker: string): Promise<void> {
  const key = await server.key({ clearance: 'SECRET' });
  const secret = new OpenAI({ baseURL: `${server.baseUrl}/v1`, apiKey: key, maxRetries: 0 });
  const conv = await secret.conversations.create(
    { items: [{ type: 'message', role: 'user', content: 'classified' }] },
    { headers: { 'Enclave-Classification': 'SECRET' } },
  );
  const call = (method: string, body?: unknown) =>
    fetch(`${server.baseUrl}/v1/labels/downgrades`, {
      method,
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  const asked = await call('POST', {
    target: { type: 'conversation', id: conv.id },
    to: 'UNCLASSIFIED',
    reason: `${marker}-justification`,
  });
  expect(asked.status).toBe(201);
  expect(JSON.stringify(await (await call('GET')).json())).toContain(`${marker}-justification`);
  const reviewer = { authorization: `Bearer ${await server.key({ role: 'reviewer' })}` };
  const queue = (await (
    await fetch(`${server.baseUrl}/v1/safety/reviews?status=pending&limit=1`, { headers: reviewer })
  ).json()) as { data: { id: string }[] };
  const item = queue.data[0];
  if (!item) throw new Error('the review queue is empty');
  const decided = await fetch(`${server.baseUrl}/v1/safety/reviews/${item.id}`, {
    method: 'POST',
    headers: { ...reviewer, 'content-type': 'application/json' },
    body: JSON.stringify({ decision: 'confirm', note: `${marker}-note` }),
  });
  expect(decided.status).toBe(200);
  const read = await fetch(`${server.baseUrl}/v1/safety/reviews/${item.id}`, { headers: reviewer });
  expect(JSON.stringify(await read.json())).toContain(`${marker}-note`);
}

/** Writes `marker` through every content path of the API: response, conversation, items, tool payloads. */
async function writeMarkerEverywhere(
  client: OpenAI,
  marker: string,
): Promise<{ responseId: string; conversationId: string; mcpResponseId: string }> {
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
  const runs = await writeMarkerThroughRuns(client, marker);
  return { responseId: first.id, conversationId: conv.id, ...runs };
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
    // Long-term memory tables are sealed by src/memory (its own tests, test/api/memory-*.test.ts): the
    // memory worker extracts asynchronously, so whether a marker reached them here is timing, not sealing.
    if (String(name).startsWith('memory_')) continue;
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
    let mcp: Awaited<ReturnType<typeof startMcpHttpServer>>;

    beforeAll(async () => {
      mcp = await startMcpHttpServer();
      server = await startTestServer({ engine, configFile: mcpConfig(mcp.url) });
      client = new OpenAI({ baseURL: `${server.baseUrl}/v1`, apiKey: await server.key(), maxRetries: 0 });
      sql = await rawSql(server.database);
    });
    afterAll(async () => {
      await sql.close();
      await server.close();
      await mcp.close();
    });

    it('leaves no marker in any content column: every one holds a sealed value', async () => {
      const marker = `MRK${randomBytes(8).toString('hex')}`;
      const written = await writeMarkerEverywhere(client, marker);
      await writeMarkerAsReviewer(server, marker);
      expect(await tablesContaining(sql, engine, marker)).toEqual([]);
      const items = await sql.rows(`SELECT content FROM items`);
      const responses = await sql.rows(`SELECT instructions, tools, metadata FROM responses`);
      const conversations = await sql.rows(`SELECT metadata FROM conversations`);
      const values = [...items, ...responses, ...conversations].flatMap((r) => Object.values(r));
      expect(values.length).toBeGreaterThan(10);
      for (const value of values) if (value !== null) expect(isSealed(String(value))).toBe(true);
      // Durable runs store JSON columns: each holds one JSON string, the sealed value.
      const runValues = [
        ...(await sql.rows(`SELECT input, output, error FROM runs`)),
        ...(await sql.rows(`SELECT input, output, error FROM run_steps`)),
        ...(await sql.rows(`SELECT data FROM run_events`)),
      ].flatMap((r) => Object.values(r).filter((v) => v !== null));
      expect(runValues.length).toBeGreaterThan(20);
      for (const value of runValues) expect(isSealed(String(JSON.parse(String(value))))).toBe(true);
      const approvals = await sql.rows(`SELECT arguments, reason, decision_reason FROM approvals`);
      const approvalValues = approvals.flatMap((r) => Object.values(r).filter((v) => v !== null));
      expect(approvalValues.length).toBeGreaterThanOrEqual(2);
      for (const value of approvalValues) expect(isSealed(String(value))).toBe(true);
      // The run-backed response still reads back (from its stored turn), tool output included.
      const mcpResponse = await client.responses.retrieve(written.mcpResponseId);
      expect(JSON.stringify(mcpResponse.output)).toContain(`deleted ${marker}-mcp`);
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

    it('deleting a run-backed response shreds and deletes its run, steps, events and approvals', async () => {
      const created = await client.responses.create({
        model: MODEL,
        input: 'run to delete',
        background: true,
      });
      await settled(client, created.id);
      const rowsOf = async () =>
        sql.rows(
          `SELECT 'run' AS t FROM runs WHERE id = ? UNION ALL SELECT 'step' FROM run_steps WHERE run_id = ?
           UNION ALL SELECT 'event' FROM run_events WHERE run_id = ? UNION ALL
           SELECT 'key' FROM data_keys WHERE scope = ?`,
          [created.id, created.id, created.id, `response:${created.id}`],
        );
      expect(new Set((await rowsOf()).map((r) => r.t))).toEqual(new Set(['run', 'step', 'event', 'key']));
      await client.responses.delete(created.id);
      expect(await rowsOf()).toEqual([]);
      await expect(client.responses.retrieve(created.id)).rejects.toMatchObject({ status: 404 });
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
      // A run whose response is never stored: parked on an approval when the user is erased.
      const parked = await erased.responses.create({
        model: MODEL,
        input: 'call mcp_calc_delete_record {"id":"parked"}',
        tools: [{ type: 'mcp', server_label: 'calc', require_approval: 'always' }],
      });
      expect(parked.status as string).toBe('requires_action');
      const kept = await client.responses.create({ model: MODEL, input: 'not theirs' });
      const [row] = await sql.rows(`SELECT principal FROM responses WHERE id = ?`, [resp.id]);
      const report = await eraseUser(
        server.services.store,
        server.services.encryption,
        'tenant-a',
        String(row?.principal),
      );
      expect(report).toMatchObject({ conversations: 1, responses: 1, runs: 1 });
      const left = await sql.rows(
        `SELECT id FROM items WHERE conversation_id = ? OR response_id = ? UNION ALL
         SELECT id FROM responses WHERE id = ? UNION ALL SELECT id FROM conversations WHERE id = ? UNION ALL
         SELECT id FROM data_keys WHERE scope IN (?, ?, ?) UNION ALL SELECT id FROM runs WHERE id = ? UNION ALL
         SELECT id FROM approvals WHERE run_id = ?`,
        [
          conv.id,
          resp.id,
          resp.id,
          conv.id,
          `conversation:${conv.id}`,
          `response:${resp.id}`,
          `response:${parked.id}`,
          parked.id,
          parked.id,
        ],
      );
      expect(left).toEqual([]);
      expect((await client.responses.retrieve(kept.id)).output_text).toContain('not theirs');
    });

    it('denies a request whose audit store fails mid-request with 503 audit_unavailable, writing nothing', async () => {
      const conv = await client.conversations.create({
        items: [{ type: 'message', role: 'user', content: 'kept' }],
      });
      const tables = ['responses', 'items', 'conversations', 'data_keys', 'runs', 'run_steps', 'run_events'];
      const count = async () => {
        const counts: Record<string, number> = {};
        for (const t of tables) counts[t] = Number((await sql.rows(`SELECT COUNT(*) AS n FROM ${t}`))[0]?.n);
        return counts;
      };
      const before = await count();
      // The audit store itself fails: the database refuses every audit row but authentication's, so the
      // request authenticates and then hits the failure mid-way (the access decision, the model call…).
      const authOnly = `NEW.entry NOT LIKE '%"type":"auth.%'`;
      if (engine === 'postgres') {
        await sql.run(`CREATE OR REPLACE FUNCTION test_audit_down() RETURNS trigger AS $f$ BEGIN
          IF ${authOnly} THEN RAISE EXCEPTION 'audit store down'; END IF; RETURN NEW; END $f$ LANGUAGE plpgsql`);
        await sql.run(`CREATE TRIGGER audit_down BEFORE INSERT ON audit_entries FOR EACH ROW
          EXECUTE FUNCTION test_audit_down()`);
      } else {
        await sql.run(`CREATE TRIGGER audit_down BEFORE INSERT ON audit_entries WHEN ${authOnly}
          BEGIN SELECT RAISE(ABORT, 'audit store down'); END`);
      }
      const unavailable = { status: 503, error: { code: 'audit_unavailable' } };
      try {
        await expect(
          client.responses.create({ model: MODEL, input: 'audited turn', conversation: conv.id }),
        ).rejects.toMatchObject(unavailable);
        await expect(client.responses.create({ model: MODEL, input: 'audited turn' })).rejects.toMatchObject(
          unavailable,
        );
        // Deleting needs its deletion receipt first: without it nothing is deleted or shredded.
        await expect(client.conversations.delete(conv.id)).rejects.toMatchObject(unavailable);
      } finally {
        await sql.run(
          engine === 'postgres' ? `DROP TRIGGER audit_down ON audit_entries` : `DROP TRIGGER audit_down`,
        );
      }
      expect(await count()).toEqual(before);
      const items = await client.conversations.items.list(conv.id);
      expect(items.data.map((i) => (i.type === 'message' ? i.content : null))).toHaveLength(1);
      // The log took nothing of the failed requests and still verifies.
      expect((await client.responses.create({ model: MODEL, input: 'after' })).status).toBe('completed');
      expect(await verifyLog(server.services.store.audit, [])).toMatchObject({ ok: true });
    });
  });
}

describe('no plaintext in any file of the data dir [sqlite]', () => {
  it('finds a unique marker written through the API in no file, while serving and after closing', async () => {
    const mcp = await startMcpHttpServer();
    const server = await startTestServer({ engine: 'sqlite', configFile: mcpConfig(mcp.url) });
    try {
      const client = new OpenAI({
        baseURL: `${server.baseUrl}/v1`,
        apiKey: await server.key(),
        maxRetries: 0,
      });
      const marker = `MRK${randomBytes(8).toString('hex')}`;
      await writeMarkerEverywhere(client, marker);
      await writeMarkerAsReviewer(server, marker);
      const files = allFiles(server.database.dataDir).map((f) => f.slice(server.database.dataDir.length));
      expect(files).toEqual(expect.arrayContaining(['/enclave.db', '/enclave.db-wal']));
      expect(filesContaining(server.database.dataDir, marker)).toEqual([]);
      await server.app.close();
      await server.services.close();
      expect(filesContaining(server.database.dataDir, marker)).toEqual([]);
    } finally {
      await server.database.drop();
      await mcp.close();
    }
  });
});
