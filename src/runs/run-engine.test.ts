import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEntry } from '../audit/audit-entry.js';
import { openStore } from '../store/open-store.js';
import type { Store } from '../store/store.js';
import { EnclaveError } from '../errors/index.js';
import type { RunHandler } from './run-engine.js';
import { createRunService, type RunService } from './run-service.js';
import { withConversationWriter } from './conversation-writer.js';

let dir: string;
let store: Store;
const services: RunService[] = [];
let n = 0;
let labelId: string;
const id = (p: string) => `${p}_${process.pid}_${++n}`;
/** What a reviewer of tenant t1 cleared for the runs' label reads. */
const scope = () => ({ tenantId: 't1', labelIds: [labelId] });

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'enclave-runs-'));
  store = await openStore({ dataDir: dir });
  labelId = await store.labels.ensure('UNCLASSIFIED');
});
afterEach(async () => {
  for (const s of services.splice(0)) await s.stop(100);
});
afterAll(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const service = async (
  handlers: Record<string, RunHandler>,
  audit?: { append(e: AuditEntry): Promise<unknown> },
) => {
  const s = createRunService({ store, handlers, audit, leaseMs: 300, pollMs: 20, cancelPollMs: 20 });
  services.push(s);
  await s.start();
  return s;
};

const until = async (runId: string, statuses: string[]) => {
  for (let i = 0; i < 500; i++) {
    const run = await store.runs.byId(runId);
    if (run && statuses.includes(run.status)) return run;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(
    `run ${runId} never reached ${statuses.join('|')}: ${(await store.runs.byId(runId))?.status}`,
  );
};

const submit = (s: RunService, kind: string) => {
  const runId = id('resp');
  return s
    .submit({ id: runId, tenantId: 't1', kind, labelId, input: { principal: 'key_owner' } })
    .then(() => runId);
};

describe('durable runs', () => {
  it('retries a failed step with the same idempotency key and never repeats a completed one', async () => {
    const calls: string[] = [];
    const s = await service({
      flaky: async (ctx) => {
        const a = await ctx.step('model_call', 'plan', null, async () => {
          calls.push('plan');
          return { next: 'add' };
        });
        const b = await ctx.step('tool_call', 'add', a, async (step) => {
          calls.push(`add:${step.idempotencyKey}:${step.attempt}`);
          if (step.attempt === 1) throw new Error('upstream 503');
          return 3;
        });
        return { output: { a, b } };
      },
    });
    s.pool.notify();
    const runId = await submit(s, 'flaky');
    const run = await until(runId, ['completed', 'failed']);
    expect(run).toMatchObject({ status: 'completed', output: { a: { next: 'add' }, b: 3 } });
    expect(calls).toEqual(['plan', `add:${runId}:1:1`, `add:${runId}:1:2`]);
  });

  it('resumes a run whose worker died mid-step, from its last checkpoint', async () => {
    const effects = new Map<string, number>();
    const handler: RunHandler = async (ctx) => {
      const out: number[] = [];
      for (let i = 0; i < 3; i++) {
        out.push(
          await ctx.step('tool_call', `t${i}`, i, async (step) => {
            effects.set(step.idempotencyKey, (effects.get(step.idempotencyKey) ?? 0) + 1);
            return i * 10;
          }),
        );
      }
      return { output: out };
    };
    // A dead worker: it claimed the run, finished step 0 and started step 1, then vanished.
    const runId = id('resp');
    await store.runs.insert({ id: runId, tenantId: 't1', kind: 'three', labelId, input: { principal: 'p' } });
    await store.jobs.enqueue({ id: runId, kind: 'run', payload: { runId } });
    await store.jobs.claim('ghost-host/1/x', 1000, 200);
    await store.runs.transition(runId, ['queued'], 'in_progress');
    await store.runSteps.begin({
      runId,
      index: 0,
      kind: 'tool_call',
      name: 't0',
      idempotencyKey: `${runId}:0`,
      labelId,
      input: 0,
    });
    await store.runSteps.finish(runId, 0, { status: 'completed', output: 0 });
    await store.runSteps.begin({
      runId,
      index: 1,
      kind: 'tool_call',
      name: 't1',
      idempotencyKey: `${runId}:1`,
      labelId,
      input: 1,
    });
    await service({ three: handler });
    const run = await until(runId, ['completed', 'failed']);
    expect(run.output).toEqual([0, 10, 20]);
    expect(effects.has(`${runId}:0`)).toBe(false);
    expect(effects.get(`${runId}:1`)).toBe(1);
    const steps = await store.runSteps.list(runId);
    expect(steps.map((st) => [st.index, st.status, st.attempts])).toEqual([
      [0, 'completed', 1],
      [1, 'completed', 2],
      [2, 'completed', 1],
    ]);
  });

  it('parks a run on an approval, audits it, and resumes it after a reviewer decides', async () => {
    const audit: AuditEntry[] = [];
    const sink = { append: async (e: AuditEntry) => audit.push(e) };
    const executed: string[] = [];
    const s = await service(
      {
        gated: async (ctx) => {
          const results: string[] = [];
          for (const tool of ['wire_money', 'delete_all']) {
            const ok = await ctx.approval({
              source: 'policy',
              serverLabel: null,
              toolName: tool,
              arguments: '{}',
              reason: 'high-risk tool',
              label: 'UNCLASSIFIED',
            });
            results.push(
              ok.approved
                ? await ctx.step('tool_call', tool, null, async () => (executed.push(tool), `${tool}:done`))
                : `${tool}:rejected`,
            );
          }
          return { output: results };
        },
      },
      sink,
    );
    const runId = await submit(s, 'gated');
    await until(runId, ['requires_action']);
    const [first] = await store.approvals.listPending(scope());
    expect(first).toMatchObject({ runId, toolName: 'wire_money', requestedBy: 'key_owner' });
    await expect(
      s.decide({
        tenantId: 't1',
        scope: scope(),
        approvalId: first!.id,
        approve: true,
        principal: 'someone',
        role: 'user',
        label: 'UNCLASSIFIED',
      }),
    ).rejects.toMatchObject({ code: 'forbidden' });
    await s.decide({
      tenantId: 't1',
      scope: scope(),
      approvalId: first!.id,
      approve: true,
      principal: 'rev',
      role: 'reviewer',
      label: 'UNCLASSIFIED',
    });
    await expect(
      s.decide({
        tenantId: 't1',
        scope: scope(),
        approvalId: first!.id,
        approve: false,
        principal: 'rev',
        role: 'reviewer',
        label: 'UNCLASSIFIED',
      }),
    ).rejects.toMatchObject({ code: 'conflict' });
    for (let i = 0; i < 200 && (await store.approvals.listPending(scope())).length === 0; i++)
      await new Promise((r) => setTimeout(r, 10));
    const [second] = await store.approvals.listPending(scope());
    expect(second?.toolName).toBe('delete_all');
    await until(runId, ['requires_action']);
    await s.decide({
      tenantId: 't1',
      scope: scope(),
      approvalId: second!.id,
      approve: false,
      principal: 'key_owner',
      role: 'user',
      label: 'UNCLASSIFIED',
    });
    const run = await until(runId, ['completed', 'failed']);
    expect(run.output).toEqual(['wire_money:done', 'delete_all:rejected']);
    expect(executed).toEqual(['wire_money']);
    expect(audit.map((e) => [e.type, e.decision ?? null, e.principal])).toEqual([
      ['approval.request', null, 'key_owner'],
      ['approval.decision', 'allow', 'rev'],
      ['approval.request', null, 'key_owner'],
      ['approval.decision', 'deny', 'key_owner'],
    ]);
  });

  it('keeps a run parked on an approval across a node restart; another node resumes it after the decision', async () => {
    const executed: string[] = [];
    const handlers: Record<string, RunHandler> = {
      parked: async (ctx) => {
        const plan = await ctx.step('model_call', 'plan', null, async () => (executed.push('plan'), 'wire'));
        const ok = await ctx.approval({
          source: 'policy',
          serverLabel: null,
          toolName: 'wire_money',
          arguments: '{}',
          reason: 'high-risk tool',
          label: 'UNCLASSIFIED',
        });
        const done = ok.approved
          ? await ctx.step('tool_call', 'wire_money', null, async () => (executed.push('wire'), 'sent'))
          : 'rejected';
        return { output: { plan, done } };
      },
    };
    const first = await service(handlers);
    const runId = await submit(first, 'parked');
    await until(runId, ['requires_action']);
    // The node goes away: a parked run holds no worker and no lease, so nothing of it is lost.
    services.splice(services.indexOf(first), 1);
    await first.stop(100);
    expect((await store.jobs.byId(runId))?.leaseOwner ?? null).toBeNull();
    const [pending] = (await store.approvals.listPending(scope())).filter((a) => a.runId === runId);
    expect(pending?.toolName).toBe('wire_money');

    const second = await service(handlers);
    await second.decide({
      tenantId: 't1',
      scope: scope(),
      approvalId: pending!.id,
      approve: true,
      principal: 'rev',
      role: 'reviewer',
      label: 'UNCLASSIFIED',
    });
    const run = await until(runId, ['completed', 'failed']);
    expect(run.output).toEqual({ plan: 'wire', done: 'sent' });
    // The plan step ran once, before the restart; the approved tool once, after it.
    expect(executed).toEqual(['plan', 'wire']);
  });

  it('cancels a run while a step is running, and refuses to cancel a finished run', async () => {
    let sawAbort = false;
    let entered: () => void = () => undefined;
    const inStep = new Promise<void>((r) => (entered = r));
    const s = await service({
      slow: async (ctx) => {
        await ctx.step('model_call', 'think', null, (step) => {
          entered();
          return new Promise((_, reject) =>
            step.signal.addEventListener('abort', () => {
              sawAbort = true;
              reject(new Error('aborted'));
            }),
          );
        });
        return { output: 'never' };
      },
      quick: async () => ({ output: 'ok' }),
    });
    const runId = await submit(s, 'slow');
    await inStep;
    expect((await s.cancel('t1', runId)).cancelRequestedAt).not.toBeNull();
    await expect(s.cancel('t2', runId)).rejects.toMatchObject({ code: 'not_found' });
    expect((await until(runId, ['cancelled', 'completed', 'failed'])).status).toBe('cancelled');
    expect(sawAbort).toBe(true);
    await expect(s.cancel('t1', runId)).rejects.toMatchObject({ code: 'conflict' });
    const done = await submit(s, 'quick');
    await until(done, ['completed']);
    await expect(s.cancel('t1', done)).rejects.toBeInstanceOf(EnclaveError);
  });

  it('records events once across re-executions and replays them from a sequence number', async () => {
    const s = await service({
      chatty: async (ctx) => {
        await ctx.emit('response.created', { a: 1 });
        await ctx.step('model_call', 'm', null, async (step) => {
          await ctx.emit('response.output_text.delta', { delta: 'hi' });
          if (step.attempt === 1) throw new Error('transient');
          return null;
        });
        await ctx.emit('response.completed', {});
        return { output: null };
      },
    });
    const runId = await submit(s, 'chatty');
    const seen: string[] = [];
    for await (const e of s.follow(runId, -1)) seen.push(`${e.seq}:${e.type}`);
    expect(seen).toEqual(['0:response.created', '1:response.output_text.delta', '2:response.completed']);
    expect((await store.runs.events(runId, 0)).map((e) => e.seq)).toEqual([1, 2]);
  });
});

describe('conversation writer lease', () => {
  it('serializes concurrent turns and 409s a writer that waited too long', async () => {
    const conv = id('conv');
    const order: string[] = [];
    const turn = (name: string, ms: number) =>
      withConversationWriter(store, conv, name, async (lease) => {
        order.push(`${name}:start`);
        await new Promise((r) => setTimeout(r, ms));
        await store.conversationLeases.assertFence(conv, lease.token);
        order.push(`${name}:end`);
        return lease.token;
      });
    const tokens = await Promise.all([turn('a', 60), turn('b', 10), turn('c', 10)]);
    expect(new Set(tokens).size).toBe(3);
    for (let i = 0; i < order.length; i += 2)
      expect(order[i]!.split(':')[0]).toBe(order[i + 1]!.split(':')[0]);
    let release: () => void = () => undefined;
    const holding = withConversationWriter(
      store,
      conv,
      'slow',
      () => new Promise<void>((r) => (release = r)),
    );
    await new Promise((r) => setTimeout(r, 20));
    await expect(
      withConversationWriter(store, conv, 'late', async () => 1, { waitMs: 50 }),
    ).rejects.toMatchObject({
      code: 'conflict',
    });
    release();
    await holding;
  });
});
