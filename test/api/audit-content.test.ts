import { randomBytes } from 'node:crypto';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openAuditContent } from '../../src/audit/index.js';
import { runCli } from '../support/cli.js';
import { startTestServer, type TestServer } from '../support/server.js';

interface Entry {
  index: number;
  type: string;
  tenant: string;
  objectId?: string;
  label: string;
  detail?: Record<string, unknown>;
}

/** Every entry of the server's log, with its index. */
async function entries(server: TestServer): Promise<Entry[]> {
  const head = await server.services.store.audit.head();
  const rows = await server.services.store.audit.entries(0, head.treeSize);
  return rows.map((r, index) => ({ index, ...(JSON.parse(r.entry) as Omit<Entry, 'index'>) }));
}

/** Sends `marker` as a prompt: the turn makes a `model.call` entry and safety `safety.verdict` entries. */
async function sendMarker(server: TestServer, marker: string): Promise<string> {
  const client = new OpenAI({ baseURL: `${server.baseUrl}/v1`, apiKey: await server.key(), maxRetries: 0 });
  const r = await client.responses.create({
    model: 'local/echo',
    input: `audited ${marker}`,
    instructions: 'be brief',
  });
  expect(r.output_text).toContain(marker);
  return r.id;
}

const ofResponse = (all: Entry[], responseId: string) => ({
  calls: all.filter((e) => e.type === 'model.call' && e.objectId === responseId),
  verdicts: all.filter((e) => e.type === 'safety.verdict'),
});

describe('audit content: hashes by default, sealed content only when opted in', () => {
  describe('default (audit.storeContent off)', () => {
    let server: TestServer;
    beforeAll(async () => {
      server = await startTestServer();
    });
    afterAll(async () => server.close());

    it('logs hashes of the prompt and screened texts, never the text and nothing sealed', async () => {
      const marker = `AUD${randomBytes(8).toString('hex')}`;
      const id = await sendMarker(server, marker);
      const all = await entries(server);
      const { calls, verdicts } = ofResponse(all, id);
      expect(calls).toHaveLength(1);
      expect(verdicts.length).toBeGreaterThan(0);
      for (const e of [...calls, ...verdicts]) {
        expect(e.detail?.promptSha256).toMatch(/^sha256:[0-9a-f]{64}$/);
        expect(e.detail).not.toHaveProperty('contentSealed');
      }
      expect(JSON.stringify(all)).not.toContain(marker);
      // No `audit` data key was ever made: sealing never ran.
      expect((await server.services.store.dataKeys.listScope('tenant-a', 'audit')).length).toBe(0);
    });
  });

  describe('opted in (audit.storeContent: true)', () => {
    let server: TestServer;
    beforeAll(async () => {
      server = await startTestServer({ configFile: { audit: { storeContent: true } } });
    });
    afterAll(async () => server.close());

    it('seals the prompt into model.call and the screened text into safety.verdict; an auditor opens them', async () => {
      const marker = `AUD${randomBytes(8).toString('hex')}`;
      const id = await sendMarker(server, marker);
      const all = await entries(server);
      // Never in the clear: not in the stored entries, nor in the export an auditor downloads.
      expect(JSON.stringify(all)).not.toContain(marker);
      const auditor = await server.key({ role: 'auditor' });
      const exported = await fetch(`${server.baseUrl}/v1/audit/entries`, {
        headers: { authorization: `Bearer ${auditor}` },
      });
      const exportText = await exported.text();
      expect(exportText).toContain('contentSealed');
      expect(exportText).not.toContain(marker);

      const { calls, verdicts } = ofResponse(all, id);
      const [call] = calls;
      if (!call) throw new Error('no model.call entry');
      expect(call.detail).toMatchObject({
        contentKind: 'prompt',
        contentSealed: expect.stringMatching(/^ev1\./),
      });
      const { cipher } = server.services.encryption;
      const prompt = await openAuditContent(cipher, call);
      expect(JSON.parse(prompt ?? '{}')).toMatchObject({ instructions: 'be brief' });
      expect(prompt).toContain(`audited ${marker}`);
      const screened = await Promise.all(verdicts.map((v) => openAuditContent(cipher, v)));
      expect(screened.some((t) => t?.includes(`audited ${marker}`))).toBe(true); // the input
      expect(screened.some((t) => t?.includes(`You said: audited ${marker}`))).toBe(true); // the output

      // Bound to its entry: moved to another entry (other object) it does not open.
      const other = verdicts.find((v) => v.objectId !== call.objectId);
      if (!other) throw new Error('expected a verdict about another object');
      await expect(
        openAuditContent(cipher, { ...other, detail: { ...other.detail, ...call.detail } }),
      ).rejects.toMatchObject({ code: 'decrypt_failed' });

      // The CLI path an auditor with the deployment's keys uses (a second process on the same data dir).
      const cli = await runCli(['audit', 'content', String(call.index)], {
        env: { ENCLAVE_DATA_DIR: server.database.dataDir },
      });
      expect(cli.stderr).toBe('');
      expect(JSON.parse(cli.stdout.trim())).toMatchObject({
        index: call.index,
        type: 'model.call',
        objectId: id,
      });
      expect(cli.stdout).toContain(`audited ${marker}`);
    });
  });
});
