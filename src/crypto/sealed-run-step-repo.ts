import type { ApprovalRecord, ApprovalRepo } from '../store/repos/approval-repo.js';
import type { RunStep, RunStepRepo } from '../store/repos/run-step-repo.js';
import type { ContentCipher, SealContext } from './content-cipher.js';
import { jsonSealer, openLabelled, sealLabel, type RunKeying } from './sealed-run-repo.js';

type KeyingOf = (runId: string) => Promise<RunKeying | undefined>;

const requiredKeying = async (keyingOf: KeyingOf, runId: string): Promise<RunKeying> => {
  const keying = await keyingOf(runId);
  if (!keying) throw new Error(`run ${runId} does not exist`);
  return keying;
};

/**
 * Run steps with their `input`, `output` (model outputs, MCP tool results, approval outcomes) and `error`
 * sealed under the run's scope. The AAD binds the run, step index and the step's label (the run's label when
 * it began, or the label its completion raised it to), so a recorded result cannot be replayed into another
 * step or run, nor its label lowered. Kind, name, status and attempts stay clear: the engine checks them.
 */
export function sealedRunStepRepo(
  inner: RunStepRepo,
  cipher: ContentCipher,
  keyingOf: KeyingOf,
): RunStepRepo {
  const json = jsonSealer(cipher);
  const ctx = (
    keying: RunKeying,
    runId: string,
    index: number,
    column: string,
    label: string,
  ): SealContext => ({
    tenant: keying.tenant,
    objectId: `${runId}#${index}`,
    kind: `run_step.${column}`,
    label,
    scope: keying.scope,
  });
  const open = async (keying: RunKeying, s: RunStep): Promise<RunStep> => {
    const under = <T>(fn: (label: string) => Promise<T>) => openLabelled(s.labelId, fn);
    const error = s.error;
    return {
      ...s,
      input: await under((l) => json.open(ctx(keying, s.runId, s.index, 'input', l), s.input)),
      output: await under((l) => json.open(ctx(keying, s.runId, s.index, 'output', l), s.output)),
      error:
        error === null
          ? null
          : await under((l) => cipher.open(ctx(keying, s.runId, s.index, 'error', l), error)),
    };
  };
  return {
    async get(runId, index) {
      const step = await inner.get(runId, index);
      return step && open(await requiredKeying(keyingOf, runId), step);
    },
    async list(runId) {
      const steps = await inner.list(runId);
      if (steps.length === 0) return steps;
      const keying = await requiredKeying(keyingOf, runId);
      return Promise.all(steps.map((s) => open(keying, s)));
    },
    async begin(step) {
      const keying = await requiredKeying(keyingOf, step.runId);
      const input = await json.seal(ctx(keying, step.runId, step.index, 'input', step.labelId), step.input);
      return open(keying, await inner.begin({ ...step, input }));
    },
    async finish(runId, index, result, now) {
      const keying = await requiredKeying(keyingOf, runId);
      // Sealed under the label the step began with (a retried step keeps its first row and label), or under
      // the raised label the completion brings, with the input re-sealed under it (the AAD binds the label).
      const row = await inner.get(runId, index);
      if (!row) return false;
      if (result.status === 'failed') {
        const error = await cipher.seal(
          ctx(keying, runId, index, 'error', sealLabel(row.labelId)),
          result.error,
        );
        return inner.finish(runId, index, { status: 'failed', error }, now);
      }
      const raised =
        result.labelId !== undefined && result.labelId !== row.labelId ? result.labelId : undefined;
      const label = raised ?? sealLabel(row.labelId);
      const output = await json.seal(ctx(keying, runId, index, 'output', label), result.output);
      if (raised === undefined) return inner.finish(runId, index, { status: 'completed', output }, now);
      const plain = await openLabelled(row.labelId, (l) =>
        json.open(ctx(keying, runId, index, 'input', l), row.input),
      );
      const input = await json.seal(ctx(keying, runId, index, 'input', raised), plain);
      return inner.finish(runId, index, { status: 'completed', output, labelId: raised, input }, now);
    },
  };
}

/** The approval columns holding caller, model or reviewer text. */
const approvalColumns = ['arguments', 'reason', 'decisionReason'] as const;

/**
 * Approvals with the tool call's arguments, the request's reason and the decider's reason sealed under the
 * run's scope (the AAD binds tenant and approval id). Tool and server names, status and who decided stay
 * clear: the approval queue is listed and filtered by them.
 */
export function sealedApprovalRepo(
  inner: ApprovalRepo,
  cipher: ContentCipher,
  keyingOf: KeyingOf,
): ApprovalRepo {
  const ctx = (keying: RunKeying, id: string, column: string, label: string): SealContext => ({
    tenant: keying.tenant,
    objectId: id,
    kind: `approval.${column}`,
    label,
    scope: keying.scope,
  });
  const sealOrNull = async (c: SealContext, value: string | null) =>
    value === null ? null : cipher.seal(c, value);
  const open = async (a: ApprovalRecord): Promise<ApprovalRecord> => {
    const keying = { ...(await requiredKeying(keyingOf, a.runId)), tenant: a.tenantId };
    const out = { ...a };
    for (const column of approvalColumns) {
      const value = a[column];
      if (value !== null)
        out[column] = await openLabelled(a.labelId, (l) => cipher.open(ctx(keying, a.id, column, l), value));
    }
    return out;
  };
  return {
    async request(r) {
      const keying = { ...(await requiredKeying(keyingOf, r.runId)), tenant: r.tenantId };
      const stored = await inner.request({
        ...r,
        arguments: await cipher.seal(ctx(keying, r.id, 'arguments', r.labelId), r.arguments),
        reason: await sealOrNull(ctx(keying, r.id, 'reason', r.labelId), r.reason),
      });
      return open(stored);
    },
    async byId(tenantId, id) {
      const row = await inner.byId(tenantId, id);
      return row && open(row);
    },
    async get(scope, id) {
      const row = await inner.get(scope, id);
      return row && open(row);
    },
    async forStep(runId, stepIndex) {
      const row = await inner.forStep(runId, stepIndex);
      return row && open(row);
    },
    async listPending(scope, page) {
      return Promise.all((await inner.listPending(scope, page)).map(open));
    },
    async decide(scope, id, decision, now) {
      if (decision.reason === undefined || decision.reason === null)
        return inner.decide(scope, id, decision, now);
      const row = await inner.get(scope, id);
      if (!row) return false;
      const keying = { ...(await requiredKeying(keyingOf, row.runId)), tenant: scope.tenantId };
      const reason = await cipher.seal(
        ctx(keying, id, 'decisionReason', sealLabel(row.labelId)),
        decision.reason,
      );
      return inner.decide(scope, id, { ...decision, reason }, now);
    },
    deleteByRun: (runId) => inner.deleteByRun(runId),
  };
}
