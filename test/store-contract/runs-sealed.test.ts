import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { createEncryption, isSealed, sealContent } from '../../src/crypto/index.js';
import { createContentCipher } from '../../src/crypto/content-cipher.js';
import { LocalKeyProvider, defaultKekPath } from '../../src/crypto/local-key-provider.js';
import { RUN_LABEL, runScope } from '../../src/crypto/sealed-run-repo.js';
import type { Store } from '../../src/store/store.js';
import { MemoryAudit } from '../support/crypto-fixture.js';
import { describeStore, uniqueId } from '../support/stores.js';

const dataDir = mkdtempSync(join(tmpdir(), 'enclave-runs-sealed-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

/** The sealing store over the contract's store, as `services.store` wraps the plain one. */
function sealing(plain: Store) {
  const provider = new LocalKeyProvider(defaultKekPath(dataDir));
  const encryption = createEncryption({ repo: plain.dataKeys, dataDir, audit: new MemoryAudit(), provider });
  return { sealed: sealContent(plain, encryption), encryption };
}

/** A response run with a step, an approval and two events, written through the sealing store. */
async function writeRun(sealed: Store, secret: string) {
  const id = uniqueId('resp');
  const tenantId = uniqueId('t');
  const labelId = await sealed.labels.ensure('CONFIDENTIAL');
  await sealed.transaction(async (tx) => {
    await tx.runs.insert({
      id,
      tenantId,
      kind: 'response',
      labelId,
      input: { principal: 'p1', text: `${secret}-input` },
    });
  });
  await sealed.runSteps.begin({
    runId: id,
    index: 0,
    kind: 'tool_call',
    name: 'mcp:calc.add',
    idempotencyKey: `${id}:0`,
    labelId,
    input: { args: `${secret}-args` },
  });
  await sealed.runSteps.finish(id, 0, { status: 'completed', output: { out: `${secret}-output` } });
  await sealed.runs.appendEvent(id, 'response.output_text.delta', { delta: `${secret}-delta-1` });
  await sealed.runs.appendEvent(id, 'response.output_text.delta', { delta: `${secret}-delta-2` });
  const approval = await sealed.approvals.request({
    id: uniqueId('mcpr'),
    tenantId,
    runId: id,
    stepIndex: 1,
    labelId,
    source: 'mcp',
    serverLabel: 'calc',
    toolName: 'add',
    arguments: `{"a":"${secret}-approval"}`,
    reason: null,
    requestedBy: 'p1',
    createdAt: 1,
  });
  await sealed.approvals.decide({ tenantId, labelIds: [labelId] }, approval.id, {
    approve: true,
    by: 'r1',
    role: 'reviewer',
    reason: `${secret}-why`,
  });
  await sealed.runs.transition(id, ['queued'], 'failed', {
    error: { message: `${secret}-error` },
    completed: true,
  });
  return { id, tenantId, labelId, approvalId: approval.id };
}

describeStore('store contract: durable runs through the sealing store', (store, engine) => {
  it('stores every content column of runs, steps, events and approvals sealed, and reads them back', async () => {
    const { sealed } = sealing(store());
    const secret = uniqueId('SECRET');
    const { id, tenantId, approvalId } = await writeRun(sealed, secret);

    const plain = store();
    const raw = JSON.stringify([
      await plain.runs.byId(id),
      await plain.runSteps.list(id),
      await plain.runs.events(id, -1),
      await plain.approvals.byId(tenantId, approvalId),
    ]);
    expect(raw, engine).not.toContain(secret);
    const run = await plain.runs.byId(id);
    for (const value of [run?.input, run?.error]) expect(isSealed(String(value))).toBe(true);

    expect((await sealed.runs.byId(id))?.input).toEqual({ principal: 'p1', text: `${secret}-input` });
    expect((await sealed.runs.byId(id))?.error).toEqual({ message: `${secret}-error` });
    expect((await sealed.runSteps.get(id, 0))?.output).toEqual({ out: `${secret}-output` });
    expect((await sealed.runs.events(id, -1)).map((e) => e.data)).toEqual([
      { delta: `${secret}-delta-1` },
      { delta: `${secret}-delta-2` },
    ]);
    expect(await sealed.approvals.byId(tenantId, approvalId)).toMatchObject({
      arguments: `{"a":"${secret}-approval"}`,
      decisionReason: `${secret}-why`,
      status: 'approved',
    });
  });

  it('binds an event to its number: two events swapped in the database fail to open', async () => {
    const { sealed } = sealing(store());
    const { id } = await writeRun(sealed, uniqueId('S'));
    const events = await store().runs.events(id, -1);
    const [first, second] = events;
    if (!first || !second) throw new Error('expected two events');
    // Rewrite the stored events in swapped order through the plain repo's own append (same run, new numbers).
    await store().runs.appendEvent(id, first.type, second.data);
    await store().runs.appendEvent(id, second.type, first.data);
    await expect(sealed.runs.events(id, second.seq)).rejects.toMatchObject({ code: 'decrypt_failed' });
  });

  it('deleting the response shreds the run and deletes its rows', async () => {
    const { sealed } = sealing(store());
    const { id, tenantId } = await writeRun(sealed, uniqueId('S'));
    await store().tenants.ensure(tenantId);
    const labelId = await store().labels.ensure('UNCLASSIFIED');
    await sealed.responses.insert({
      id,
      tenantId,
      labelId,
      status: 'completed',
      model: 'm',
      endpoint: null,
      provider: null,
      principal: 'p1',
      previousResponseId: null,
      conversationId: null,
      inputItemIds: [],
      contextItemIds: [],
      outputItemIds: [],
      params: '{}',
      instructions: null,
      tools: '[]',
      metadata: '{}',
      usage: null,
      error: null,
      incompleteReason: null,
      latencyMs: null,
      createdAt: 1,
      completedAt: 1,
    });
    const labels = (await store().labels.list()).map((l) => l.id);
    expect(await sealed.responses.delete({ tenantId, labelIds: labels }, id)).toBe(true);
    expect(await store().runs.byId(id)).toBeUndefined();
    expect(await store().runSteps.list(id)).toEqual([]);
    expect(await store().runs.events(id, -1)).toEqual([]);
    expect(await store().approvals.forStep(id, 1)).toBeUndefined();
    expect(await store().dataKeys.listScope(tenantId, `response:${id}`)).toEqual([]);
  });

  it('binds the run label: a relabel re-seals, and a label lowered in the database no longer opens', async () => {
    const { sealed } = sealing(store());
    const secret = uniqueId('S');
    const { id, tenantId, labelId } = await writeRun(sealed, secret);
    const higher = await sealed.labels.ensure('SECRET');
    const before = await store().runs.byId(id);
    expect(await sealed.runs.relabel(id, higher)).toBe(true);
    const after = await store().runs.byId(id);
    expect(after?.labelId).toBe(higher);
    expect(after?.input).not.toEqual(before?.input);
    const scope = { tenantId, labelIds: [labelId, higher] };
    expect((await sealed.runs.get(scope, id))?.input).toEqual({ principal: 'p1', text: `${secret}-input` });
    expect((await sealed.runs.get(scope, id))?.error).toEqual({ message: `${secret}-error` });
    // Events recorded before the relabel keep their label and still open; new ones carry the raised label.
    await sealed.runs.appendEvent(id, 'response.completed', { done: secret });
    const events = await sealed.runs.visibleEvents(scope, id, -1);
    expect(events.map((e) => e.labelId)).toEqual([labelId, labelId, higher]);
    expect(events[2]?.data).toEqual({ done: secret });
    // Tampering: the label column lowered without the content being re-sealed.
    await store().runs.relabel(id, labelId);
    await expect(sealed.runs.byId(id)).rejects.toMatchObject({ code: 'decrypt_failed' });
  });

  it('opens a row sealed before runs had labels (backfilled label) and re-seals it when relabelled', async () => {
    const { sealed, encryption } = sealing(store());
    const cipher = createContentCipher(encryption.keys);
    const id = uniqueId('resp');
    const tenantId = uniqueId('t');
    const labelId = await store().labels.ensure('CONFIDENTIAL');
    const legacy = await cipher.seal(
      {
        tenant: tenantId,
        objectId: id,
        kind: 'run.input',
        label: RUN_LABEL,
        scope: runScope({ id, kind: 'response' }),
      },
      JSON.stringify({ legacy: true }),
    );
    // As migration 0013 leaves it: content sealed under the old fixed slot, label_id backfilled.
    await store().runs.insert({ id, tenantId, kind: 'response', labelId, input: legacy });
    expect((await sealed.runs.byId(id))?.input).toEqual({ legacy: true });
    const higher = await sealed.labels.ensure('SECRET');
    expect(await sealed.runs.relabel(id, higher)).toBe(true);
    expect((await store().runs.byId(id))?.input).not.toBe(legacy);
    expect((await sealed.runs.byId(id))?.input).toEqual({ legacy: true });
  });
});
