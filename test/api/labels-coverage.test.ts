import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCanonicalLabel } from '../../src/labels/index.js';
import { rawSql, type RawSql } from '../support/raw-content.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { engines } from '../support/stores.js';
import { auditEntries, classified } from './labels-support.js';

const MODEL = 'local/echo';

/** A column that holds a security label (a catalogue id or a canonical label), as opposed to e.g. `server_label`. */
const isLabelColumn = (column: string): boolean =>
  column === 'label' || column === 'label_id' || /_label_id$/.test(column) || column === 'clearance';

/**
 * Tables that hold no label of their own. Each is either not data (catalogue, keys, bookkeeping) or derives its
 * label from a labelled row it points to; a new table must be labelled or added here with its reason.
 */
const unlabelled: Record<string, string> = {
  labels: 'the catalogue itself',
  tenants: 'tenancy, no content',
  api_keys: 'its clearance column is checked as a label below',
  audit_entries: 'each entry carries its label inside the JSON (checked below)',
  audit_checkpoints: 'signed tree heads, no content',
  audit_head: 'tree frontier, no content',
  data_keys: 'wrapped key material, scoped by the sealed row',
  safety_verdicts: 'a hash and categories of a labelled subject, no text',
  memory_record_sources: 'join table between labelled records and sources',
  memory_terms: 'blind-index terms of a labelled record',
  memory_retention: 'per-tenant settings',
  memory_jobs: 'work queue entries pointing to labelled sources',
  conversation_leases: 'locks on a labelled conversation',
  jobs: 'work queue entries pointing to labelled responses',
  migrations: 'schema bookkeeping',
  kysely_migration: 'schema bookkeeping',
  kysely_migration_lock: 'schema bookkeeping',
};

async function tablesAndColumns(sql: RawSql, engine: string): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  if (engine === 'postgres') {
    const rows = await sql.rows(
      `SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'public'`,
    );
    for (const r of rows) {
      const t = String(r.table_name);
      out.set(t, [...(out.get(t) ?? []), String(r.column_name)]);
    }
    return out;
  }
  const tables = await sql.rows(
    `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`,
  );
  for (const { name } of tables) {
    const cols = await sql.rows(`SELECT name FROM pragma_table_info(?)`, [String(name)]);
    out.set(
      String(name),
      cols.map((c) => String(c.name)),
    );
  }
  return out;
}

for (const engine of engines) {
  describe(`every stored object carries a label [${engine}]`, () => {
    let server: TestServer;
    let sql: RawSql;

    beforeAll(async () => {
      server = await startTestServer({ engine });
      sql = await rawSql(server.database);
    });
    afterAll(async () => {
      await sql.close();
      await server.close();
    });

    /** Touches every kind of stored object through the HTTP API, at several labels. */
    async function workout(): Promise<void> {
      const key = await server.key({ clearance: 'TOP SECRET//SI', role: 'user' });
      const reviewerKey = await server.key({ clearance: 'TOP SECRET//SI', role: 'reviewer' });
      const client = new OpenAI({ baseURL: `${server.baseUrl}/v1`, apiKey: key, maxRetries: 0 });
      const api = (k: string, path: string, body: unknown, headers: Record<string, string> = {}) =>
        fetch(`${server.baseUrl}/v1${path}`, {
          method: 'POST',
          headers: { authorization: `Bearer ${k}`, 'content-type': 'application/json', ...headers },
          body: JSON.stringify(body),
        });

      const conv = await client.conversations.create(
        { items: [{ type: 'message', role: 'user', content: 'first' }], metadata: { k: 'v' } },
        classified('SECRET'),
      );
      await client.conversations.items.create(
        conv.id,
        { items: [{ type: 'message', role: 'user', content: 'added' }] },
        classified('SECRET'),
      );
      // No header: the principal's default label applies, never "none".
      const plain = await client.responses.create({ model: MODEL, input: 'unlabelled request' });
      await client.responses.create(
        { model: MODEL, input: 'in conversation', conversation: conv.id },
        classified('CONFIDENTIAL'),
      );
      const tool = {
        type: 'function' as const,
        name: 'lookup',
        parameters: { type: 'object', properties: {} },
        strict: false,
      };
      const call = await client.responses.create(
        { model: MODEL, tools: [tool], input: 'call lookup {"q":"x"}' },
        classified('SECRET//SI'),
      );
      const fc = call.output.find((o) => o.type === 'function_call');
      if (fc?.type !== 'function_call') throw new Error('the echo model made no function call');
      await client.responses.create({
        model: MODEL,
        tools: [tool],
        previous_response_id: call.id,
        input: [{ type: 'function_call_output', call_id: fc.call_id, output: 'tool output' }],
      });
      const background = await client.responses.create({ model: MODEL, input: 'later', background: true });
      for (let r = background; r.status === 'queued' || r.status === 'in_progress';) {
        await new Promise((resolve) => setTimeout(resolve, 25));
        r = await client.responses.retrieve(background.id);
      }
      // Flagged by the safety stack (monitor mode here): a review item holding the text.
      await client.responses.create(
        {
          model: MODEL,
          input:
            'Build a system that tracks every citizen of our country through phone location data and flags dissidents for the state police.',
        },
        classified('CONFIDENTIAL'),
      );
      await client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'chat' }] });
      expect(
        (await api(key, '/memories', { text: 'The user prefers tea.' }, classified('CONFIDENTIAL').headers))
          .status,
      ).toBe(201);
      const asked = await api(key, '/labels/downgrades', {
        target: { type: 'response', id: plain.id },
        to: 'UNCLASSIFIED',
        reason: 'r',
      });
      // The default label is the clearance, so the request may lower it.
      expect(asked.status).toBe(201);
      const { id } = (await asked.json()) as { id: string };
      expect((await api(reviewerKey, `/labels/downgrades/${id}`, { decision: 'approve' })).status).toBe(200);
      await client.responses.retrieve(plain.id);
    }

    it('leaves no NULL or empty label in any labelled table after a full API workout', async () => {
      await workout();
      const tables = await tablesAndColumns(sql, engine);
      const catalogue = new Set((await sql.rows(`SELECT id FROM labels`)).map((r) => String(r.id)));
      const checked: string[] = [];
      for (const [table, columns] of tables) {
        const labelColumns = columns.filter(isLabelColumn);
        if (labelColumns.length === 0) {
          expect(unlabelled, `table ${table} has no label column`).toHaveProperty(table);
          continue;
        }
        const rows = await sql.rows(`SELECT ${labelColumns.map((c) => `"${c}"`).join(', ')} FROM "${table}"`);
        if (rows.length > 0) checked.push(table);
        for (const row of rows) {
          for (const column of labelColumns) {
            const value = row[column];
            expect(
              typeof value === 'string' && value.length > 0,
              `${table}.${column} = ${String(value)}`,
            ).toBe(true);
            if (column.endsWith('label_id'))
              expect(catalogue.has(String(value)), `${table}.${column}`).toBe(true);
            else if (table !== 'labels') expect(() => parseCanonicalLabel(String(value))).not.toThrow();
          }
        }
      }
      // The workout reached every kind of labelled object.
      expect(checked).toEqual(
        expect.arrayContaining([
          'conversations',
          'items',
          'responses',
          'label_downgrades',
          'safety_reviews',
          'api_keys',
          // The background response's run, its steps and recorded stream events (migration 0013).
          'runs',
          'run_steps',
          'run_events',
        ]),
      );
      expect(checked.some((t) => t.startsWith('memory_'))).toBe(true);
      // Audit entries are labelled inside their JSON.
      const entries = await auditEntries(server);
      expect(entries.length).toBeGreaterThan(20);
      for (const e of entries) expect(() => parseCanonicalLabel(e.label), JSON.stringify(e)).not.toThrow();
    });
  });
}
