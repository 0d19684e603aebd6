import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { createEncryption, sealContent } from '../../src/crypto/index.js';
import { LocalKeyProvider, defaultKekPath } from '../../src/crypto/local-key-provider.js';
import { createRunContext } from '../../src/runs/run-context.js';
import type { Store } from '../../src/store/store.js';
import { MemoryAudit } from '../support/crypto-fixture.js';
import { describeStore, uniqueId } from '../support/stores.js';

const dataDir = mkdtempSync(join(tmpdir(), 'enclave-step-raise-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

function sealing(plain: Store): Store {
  const provider = new LocalKeyProvider(defaultKekPath(dataDir));
  return sealContent(
    plain,
    createEncryption({ repo: plain.dataKeys, dataDir, audit: new MemoryAudit(), provider }),
  );
}

/** A response run at `label` through the sealing store, and a context executing it. */
async function runAt(sealed: Store, label: string) {
  const id = uniqueId('resp');
  const tenantId = uniqueId('t');
  const labelId = await sealed.labels.ensure(label);
  await sealed.runs.insert({ id, tenantId, kind: 'response', labelId, input: { principal: 'p1' } });
  const run = (await sealed.runs.byId(id))!;
  const ctx = () =>
    createRunContext({
      store: sealed,
      run,
      signal: new AbortController().signal,
      principal: 'p1',
      recordedEvents: 0,
    });
  return { id, tenantId, labelId, ctx };
}

describeStore('a step that raises its label as it completes (the memory tool’s recall)', (store, engine) => {
  it('completes the step under the joined label, re-sealed, with the run raised in the same transaction', async () => {
    const sealed = sealing(store());
    const { id, tenantId, labelId: low, ctx: context } = await runAt(sealed, 'UNCLASSIFIED');
    const high = await sealed.labels.ensure('SECRET');
    const secret = uniqueId('PELICAN');
    const ctx = context();
    const joinedFrom: string[] = [];
    const output = await ctx.step(
      'tool_call',
      'memory',
      { arguments: `{"q":"${secret}-q"}` },
      async (step) => {
        step.raiseLabel(async (runLabelId) => {
          joinedFrom.push(runLabelId);
          return high;
        });
        return { output: `${secret}-recalled` };
      },
    );
    expect(output).toEqual({ output: `${secret}-recalled` });
    expect(joinedFrom, engine).toEqual([low]);

    const plain = store();
    const row = await plain.runSteps.get(id, 0);
    expect(row).toMatchObject({ status: 'completed', labelId: high });
    expect(JSON.stringify(row)).not.toContain(secret);
    // Input and output open under the raised label (the AAD binds it); the run rose with the step.
    expect(await sealed.runSteps.get(id, 0)).toMatchObject({
      labelId: high,
      input: { arguments: `{"q":"${secret}-q"}` },
      output: { output: `${secret}-recalled` },
    });
    expect((await plain.runs.byId(id))?.labelId).toBe(high);
    expect(ctx.labelId).toBe(high);
    expect(await sealed.runs.get({ tenantId, labelIds: [low] }, id)).toBeUndefined();

    // Everything written after it carries the raised label.
    await ctx.step('model_call', 'model:m', { model: 'm' }, async () => ({ text: `${secret}-answer` }));
    await ctx.emit('response.output_text.delta', { delta: `${secret}-delta` });
    expect((await plain.runSteps.get(id, 1))?.labelId).toBe(high);
    expect((await plain.runs.events(id, -1)).map((e) => e.labelId)).toEqual([high]);
    expect(await sealed.runs.visibleEvents({ tenantId, labelIds: [low] }, id, -1)).toEqual([]);
  });

  it('is atomic: when raising the run fails, the step is not completed either (it runs again on resume)', async () => {
    const sealed = sealing(store());
    const { id, labelId: low } = await runAt(sealed, 'UNCLASSIFIED');
    const high = await sealed.labels.ensure('SECRET');
    // The run's relabel fails inside the completing transaction (after the step's row was updated in it).
    const failing: Store = {
      ...sealed,
      transaction: (fn, options) =>
        sealed.transaction(
          (tx) =>
            fn({
              ...tx,
              runs: {
                ...tx.runs,
                relabel: async () => {
                  throw new Error('relabel failed');
                },
              },
            }),
          options,
        ),
    };
    const run = (await sealed.runs.byId(id))!;
    const ctx = createRunContext({
      store: failing,
      run,
      signal: new AbortController().signal,
      principal: 'p1',
      recordedEvents: 0,
    });
    await expect(
      ctx.step('tool_call', 'memory', { q: 'x' }, async (step) => {
        step.raiseLabel(async () => high);
        return 'recalled';
      }),
    ).rejects.toThrow('relabel failed');
    expect(await store().runSteps.get(id, 0)).toMatchObject({
      status: 'started',
      labelId: low,
      output: null,
    });
    expect((await store().runs.byId(id))?.labelId).toBe(low);
    expect(ctx.labelId).toBe(low);
    // Still readable under its first label (nothing was re-sealed).
    expect((await sealed.runSteps.get(id, 0))?.input).toEqual({ q: 'x' });
  });

  it('replays the completed step as recorded, without joining again; a failed step keeps its label', async () => {
    const sealed = sealing(store());
    const { id, labelId: low, ctx: context } = await runAt(sealed, 'UNCLASSIFIED');
    const high = await sealed.labels.ensure('SECRET');
    let joins = 0;
    const body = async (step: { raiseLabel(join: (l: string) => Promise<string>): void }) => {
      step.raiseLabel(async () => {
        joins++;
        return high;
      });
      return 'recalled';
    };
    await context().step('tool_call', 'memory', {}, body);
    // A re-execution (resume) replays step 0 and does not raise again.
    const again = context();
    expect(await again.step('tool_call', 'memory', {}, body)).toBe('recalled');
    expect(joins).toBe(1);

    const { id: other, ctx: fresh } = await runAt(sealed, 'UNCLASSIFIED');
    const failing = fresh();
    await expect(
      failing.step('tool_call', 'memory', {}, async (step) => {
        step.raiseLabel(async () => high);
        throw new Error('search failed');
      }),
    ).rejects.toThrow('search failed');
    expect(await store().runSteps.get(other, 0)).toMatchObject({ status: 'failed', labelId: low });
    expect((await store().runs.byId(other))?.labelId).toBe(low);
    expect((await sealed.runSteps.get(other, 0))?.error).toBe('search failed');
    expect(id).not.toBe(other);
  });
});
