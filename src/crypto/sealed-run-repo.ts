import { isEnclaveError } from '../errors/index.js';
import type { RunEvent, RunRecord, RunRepo } from '../store/repos/run-repo.js';
import type { Store } from '../store/store.js';
import type { ContentCipher, SealContext } from './content-cipher.js';
import { responseScope } from './content-scopes.js';

/** Where a run's content is sealed: its tenant and shred scope, read once from the run row. */
export interface RunKeying {
  tenant: string;
  scope: string;
}

/**
 * The label slot of content sealed before run rows had a label (migration 0013): such a row is opened under
 * its label id first and then under this value. A row sealed since binds its real label id, so lowering its
 * `label_id` makes it undecryptable (tried under both, it matches neither); a legacy row had no label binding
 * to lose. Rows sealed under this value are re-sealed under their label when the run is relabelled.
 */
export const RUN_LABEL = 'run';

/** Opens a value sealed under `labelId` (or, for a legacy row, under RUN_LABEL). */
export async function openLabelled<T>(
  labelId: string | null,
  open: (label: string) => Promise<T>,
): Promise<T> {
  if (labelId === null) return open(RUN_LABEL);
  try {
    return await open(labelId);
  } catch (error) {
    if (!(isEnclaveError(error) && error.code === 'decrypt_failed')) throw error;
    return open(RUN_LABEL).catch(() => {
      throw error;
    });
  }
}

/** The label a new value is sealed under: the row's label (a legacy unlabelled row keeps the old slot). */
export const sealLabel = (labelId: string | null | undefined): string => labelId ?? RUN_LABEL;

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
  const ctx = (keying: RunKeying, runId: string, column: string, label: string): SealContext => ({
    tenant: keying.tenant,
    objectId: runId,
    kind: `run.${column}`,
    label,
    scope: keying.scope,
  });
  const openColumn = (keying: RunKeying, r: RunRecord, column: 'input' | 'output' | 'error') =>
    openLabelled(r.labelId, (label) => json.open(ctx(keying, r.id, column, label), r[column]));
  const keyingOfRow = (r: { tenantId: string; id: string; kind: string }): RunKeying => ({
    tenant: r.tenantId,
    scope: runScope(r),
  });
  const open = async (r: RunRecord): Promise<RunRecord> => {
    const keying = keyingOfRow(r);
    return {
      ...r,
      input: await openColumn(keying, r, 'input'),
      output: await openColumn(keying, r, 'output'),
      error: await openColumn(keying, r, 'error'),
    };
  };
  const eventContext = (
    keying: RunKeying,
    runId: string,
    seq: number,
    type: string,
    label: string,
  ): SealContext => ({
    tenant: keying.tenant,
    objectId: `${runId}#${seq}`,
    kind: `run_event.${type}`,
    label,
    scope: keying.scope,
  });
  const openEvents = async (id: string, rows: RunEvent[]): Promise<RunEvent[]> => {
    if (rows.length === 0) return rows;
    const keying = await required(id);
    return Promise.all(
      rows.map(async (e) => ({
        ...e,
        data: await openLabelled(e.labelId, (label) =>
          json.open(eventContext(keying, id, e.seq, e.type, label), e.data),
        ),
      })),
    );
  };
  const required = async (runId: string): Promise<RunKeying> => {
    const keying = await keyingOf(runId);
    if (!keying) throw new Error(`run ${runId} does not exist`);
    return keying;
  };
  return {
    async insert(run) {
      const sealedInput = await json.seal(ctx(keyingOfRow(run), run.id, 'input', run.labelId), run.input);
      await inner.insert({ ...run, input: sealedInput });
    },
    async byId(id) {
      const row = await inner.byId(id);
      return row && open(row);
    },
    async get(scope, id) {
      const row = await inner.get(scope, id);
      return row && open(row);
    },
    async relabel(id, labelId) {
      // The label is in every content column's AAD: open under the old label, seal again under the new one.
      const row = await inner.byId(id);
      if (!row) return false;
      if (row.labelId === labelId) return true;
      const keying = keyingOfRow(row);
      const content: { input?: unknown; output?: unknown; error?: unknown } = {};
      for (const column of ['input', 'output', 'error'] as const) {
        if (row[column] === null) continue;
        const plain = await openColumn(keying, row, column);
        content[column] = await json.seal(ctx(keying, id, column, labelId), plain);
      }
      return inner.relabel(id, labelId, content);
    },
    async transition(id, from, to, fields = {}, now) {
      if (fields.output === undefined && fields.error === undefined)
        return inner.transition(id, from, to, fields, now);
      const row = await inner.byId(id);
      if (!row) return false;
      const keying = keyingOfRow(row);
      const label = sealLabel(row.labelId);
      const sealed = { ...fields };
      if (fields.output !== undefined)
        sealed.output = await json.seal(ctx(keying, id, 'output', label), fields.output);
      if (fields.error !== undefined)
        sealed.error = await json.seal(ctx(keying, id, 'error', label), fields.error);
      return inner.transition(id, from, to, sealed, now);
    },
    requestCancel: (id, now) => inner.requestCancel(id, now),
    async appendEvent(id, type, data, now) {
      if (withinTransaction) return withinTransaction((tx) => tx.runs.appendEvent(id, type, data, now));
      const keying = await required(id);
      return inner.appendEvent(id, type, data, now, (seq, labelId) =>
        json.seal(eventContext(keying, id, seq, type, sealLabel(labelId)), data),
      );
    },
    events: async (id, after, limit) => openEvents(id, await inner.events(id, after, limit)),
    visibleEvents: async (scope, id, after, limit) =>
      openEvents(id, await inner.visibleEvents(scope, id, after, limit)),
    async listUnfinished(limit) {
      return Promise.all((await inner.listUnfinished(limit)).map(open));
    },
    idsOfTenant: (tenantId, kind) => inner.idsOfTenant(tenantId, kind),
    delete: (id) => inner.delete(id),
  };
}
