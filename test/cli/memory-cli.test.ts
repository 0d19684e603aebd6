import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createServices } from '../../src/app/services.js';
import { loadConfig } from '../../src/config/config.js';
import { createLogger } from '../../src/telemetry/logger.js';
import { runCli } from '../support/cli.js';

describe('enclave memory import|search (the CONTRACT.md JSONL shapes)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'enclave-memcli-'));
  const env = { ENCLAVE_DATA_DIR: dataDir };
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));
  const turns = [
    {
      session: 1,
      id: 'D1:1',
      speaker: 'Ana',
      text: 'What did you do on the weekend?',
      time: '2023-05-08T10:00:00Z',
    },
    { session: 1, id: 'D1:2', speaker: 'Ben', text: 'Went hiking in the Alps with my sister.' },
    { session: 2, id: 'D2:1', speaker: 'Ana', text: 'I adopted a grey kitten called Miso.' },
  ];
  const input = turns.map((t) => JSON.stringify(t)).join('\n');

  it('imports turns as the user’s conversations and finds them by turn id', async () => {
    const args = ['memory', 'import', '--tenant', 't1', '--user', 'key:u1'];
    const imported = await runCli(args, { env, input });
    expect(imported.code, imported.stderr).toBe(0);
    expect(imported.stderr).toContain('imported 3 turns');
    // Idempotent: the same turns again store nothing twice.
    const again = await runCli(args, { env, input });
    expect(again.stderr).toContain('imported 0 turns (3 already stored)');

    const queries = [
      { id: 'q1', query: 'Where did Ben go hiking?' },
      { id: 'q2', query: 'kitten' },
    ];
    const searched = await runCli(['memory', 'search', '--tenant', 't1', '--user', 'key:u1', '--k', '2'], {
      env,
      input: queries.map((q) => JSON.stringify(q)).join('\n'),
    });
    expect(searched.code, searched.stderr).toBe(0);
    const lines = searched.stdout
      .trim()
      .split('\n')
      .map(
        (l) => JSON.parse(l) as { id: string; hits: { source_ids: string[]; text: string; score: number }[] },
      );
    expect(lines.map((l) => l.id)).toEqual(['q1', 'q2']);
    expect(lines[0]?.hits[0]?.source_ids).toEqual(['D1:2']);
    expect(lines[1]?.hits[0]?.source_ids).toEqual(['D2:1']);
    expect(lines.every((l) => l.hits.every((h) => typeof h.score === 'number' && h.text.length > 0))).toBe(
      true,
    );
    // Another user sees nothing.
    const other = await runCli(['memory', 'search', '--tenant', 't1', '--user', 'key:u2'], {
      env,
      input: queries.map((q) => JSON.stringify(q)).join('\n'),
    });
    expect(
      other.stdout
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as { hits: unknown[] }).hits.length),
    ).toEqual([0, 0]);
  });

  it('stored the turns as conversation history: one conversation per session', async () => {
    const services = await createServices(loadConfig({}, env), { logger: createLogger('silent') });
    try {
      const scope = { tenantId: 't1', labelIds: [await services.store.labels.ensure('UNCLASSIFIED')] };
      const page = await services.store.conversations.list(scope, { limit: 10, order: 'asc' });
      expect(page.data).toHaveLength(2);
      expect(page.data.every((c) => c.principal === 'key:u1')).toBe(true);
      const items = await services.store.items.conversationContext(scope, page.data[0]?.id ?? '');
      expect(items.length).toBeGreaterThan(0);
    } finally {
      await services.close();
    }
  });

  it('sets a tenant retention that the memory worker sweep applies, with a receipt', async () => {
    const set = await runCli(['memory', 'retention', '--tenant', 't1', '--max-age-days', '30'], { env });
    expect(set.code, set.stderr).toBe(0);
    expect(JSON.parse(set.stdout)).toEqual({ tenant: 't1', maxAgeDays: 30 });
    const services = await createServices(loadConfig({}, env), { logger: createLogger('silent') });
    try {
      // D1:1 was said in 2023, older than 30 days: the sweep forgets it and what derives from it (the other
      // turns carry no time, so they were said at import).
      const before = await services.store.memory.lifecycle.rowCounts('t1');
      const swept = await services.memory.service.sweepRetention();
      expect(swept).toMatchObject({ tenants: 1, sources: 1 });
      expect(swept.records).toBeGreaterThan(0);
      const after = await services.store.memory.lifecycle.rowCounts('t1');
      expect(after.memory_sources).toBe((before.memory_sources ?? 0) - 1);
      expect(after.memory_records).toBe((before.memory_records ?? 0) - swept.records);
      // A second sweep finds nothing more to forget.
      expect(await services.memory.service.sweepRetention()).toMatchObject({ sources: 0, records: 0 });
      const head = await services.store.audit.head();
      const entries = (await services.store.audit.entries(0, head.treeSize)).map(
        (e) => JSON.parse(e.entry) as { type: string; rule?: string; detail?: Record<string, unknown> },
      );
      expect(entries.some((e) => e.type === 'config.change' && e.rule === 'memory.retention')).toBe(true);
      expect(entries.some((e) => e.type === 'deletion.receipt' && e.detail?.target === 'retention')).toBe(
        true,
      );
    } finally {
      await services.close();
    }
    const off = await runCli(['memory', 'retention', '--tenant', 't1', '--off'], { env });
    expect(JSON.parse(off.stdout)).toEqual({ tenant: 't1', maxAgeDays: null });
  });
});
