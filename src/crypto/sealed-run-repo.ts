import type { RunRecord, RunRepo } from '../store/repos/run-repo.js';
import type { Store } from '../store/store.js';
import type { ContentCipher, SealContext } from './content-cipher.js';
import { responseScope } from './content-scopes.js';

/** Where a run's content is sealed: its tenant and shred scope, read once from the run row. */
export interface RunKeying {
  tenant: string;
  scope: string;
}

/**
 * Run tables have no label column (a run is reached through its tenant and principal, and the response it
 * serves carries the label), so the AAD binds this fixed value in the label slot: tenant, row id and kind
 * still pin every value to its row and column.
 */
export const RUN_LABEL = 'run';

/**
 * A run serving a response (kind `response`, the Responses API's runs; src/runs/response-run.ts) has the
 * response's id, so its content is sealed under `response:<id>`: deleting the response shreds the run's
 * request body, steps and stream events with it. Runs of any other kind get a scope of their own.
 */
export const runScope = (run: { id: string; kind: string }): string =>
  run.kind === 'response' ? responseScope(run.id) : `run:${run.id}`;

/** A run's tenant and scope never change: remembered (bounded) so steps and events cost no lookup. */
export function runKeyingOf(
  runs: Pick<RunRepo, 'byId'>,
  cache: Map<string, RunKeying>,
): (runId: string) => Promise<RunKeying | undefined> {
  return async (runId) => {
    const known = cache.get(runId);
    if (known) return known;
    const row = await runs.byId(runId);
    if (!row) return undefined;
    const keying = { tenant: row.tenantId, scope: runScope(row) };
    if (cache.size >= 10_000) cache.clear();
    cache.set(runId, keying);
    return keying;
  };
}

/** JSON values sealed as one string; null stays null so "no output yet" stays visible to queries. */
export function jsonSealer(cipher: ContentCipher) {
  return {
    seal: async (ctx: SealContext, value: unknown): Promise<string> =>
      cipher.seal(ctx, JSON.stringify(value ?? null)),
    open: async (ctx: SealContext, stored: unknown): Promise<unknown> => {
      if (stored === null || stored === undefined) return null;
      // Anything but a sealed string (a row written before sealing existed) is refused by `open`.
      return JSON.parse(await cipher.open(ctx, typeof stored === 'string' ? stored : JSON.stringify(stored)));
    },
  };
}

/**
 * Runs with their request body (`input`), `output`, `error` and every recorded stream event sealed under the
 * run's scope; status, ids, timestamps and the event type stay clear (the engine queries them). An event's
 * AAD binds its sequence number, so events cannot be reordered or moved between runs.
 *
 * `withinTransaction` is set outside a transaction: an event's number is taken inside the append's
 * transaction and the value sealed there, so on SQLite (one connection) its data key must be read through
 * that same transaction (see DataKeys.withinTransaction).
 */
export function sealedRunRepo(
  inner: RunRepo,
  cipher: ContentCipher,
  keyingOf: (runId: string) => Promise<RunKeying | undefined>,
  withinTransaction: (<T>(fn: (tx: Store) => Promise<T>) => Promise<T>) | undefined,
): RunRepo {
  const json = jsonSealer(cipher);
  const ctx = (keying: RunKeying, runId: string, column: string): SealContext => ({
    tenant: keying.tenant,
    objectId: runId,
    kind: `run.${column}`,
    label: RUN_LABEL,
    scope: keying.scope,
  });
  const keyingOfRow = (r: { tenantId: string; id: string; kind: string }): RunKeying => ({
    tenant: r.tenantId,
    scope: runScope(r),
  });
  const open = async (r: RunRecord): Promise<RunRecord> => {
    const keying = keyingOfRow(r);
    return {
      ...r,
      input: await json.open(ctx(keying, r.id, 'input'), r.input),
      output: await json.open(ctx(keying, r.id, 'output'), r.output),
      error: await json.open(ctx(keying, r.id, 'error'), r.error),
    };
  };
  const eventContext = (keying: RunKeying, runId: string, seq: number, type: string): SealContext => ({
    tenant: keying.tenant,
    objectId: `${runId}#${seq}`,
    kind: `run_event.${type}`,
    label: RUN_LABEL,
    scope: keying.scope,
  });
  const required = async (runId: string): Promise<RunKeying> => {
    const keying = await keyingOf(runId);
    if (!keying) throw new Error(`run ${runId} does not exist`);
    return keying;
  };
  return {
    async insert(run) {
      const sealedInput = await json.seal(ctx(keyingOfRow(run), run.id, 'input'), run.input);
      await inner.insert({ ...run, input: sealedInput });
    },
    async byId(id) {
      const row = await inner.byId(id);
      return row && open(row);
    },
    async transition(id, from, to, fields = {}, now) {
      if (fields.output === undefined && fields.error === undefined)
        return inner.transition(id, from, to, fields, now);
      const keying = await keyingOf(id);
      if (!keying) return false;
      const sealed = { ...fields };
      if (fields.output !== undefined)
        sealed.output = await json.seal(ctx(keying, id, 'output'), fields.output);
      if (fields.error !== undefined) sealed.error = await json.seal(ctx(keying, id, 'error'), fields.error);
      return inner.transition(id, from, to, sealed, now);
    },
    requestCancel: (id, now) => inner.requestCancel(id, now),
    async appendEvent(id, type, data, now) {
      if (withinTransaction) return withinTransaction((tx) => tx.runs.appendEvent(id, type, data, now));
      const keying = await required(id);
      return inner.appendEvent(id, type, data, now, (seq) =>
        json.seal(eventContext(keying, id, seq, type), data),
      );
    },
    async events(id, after, limit) {
      const rows = await inner.events(id, after, limit);
      if (rows.length === 0) return rows;
      const keying = await required(id);
      return Promise.all(
        rows.map(async (e) => ({
          ...e,
          data: await json.open(eventContext(keying, id, e.seq, e.type), e.data),
        })),
      );
    },
    async listUnfinished(limit) {
      return Promise.all((await inner.listUnfinished(limit)).map(open));
    },
    idsOfTenant: (tenantId, kind) => inner.idsOfTenant(tenantId, kind),
    delete: (id) => inner.delete(id),
  };
}
