import type { ResponseRecord, ResponseRepo, ResponseUpdate } from '../store/repos/response-repo.js';
import type { ContentCipher, SealContext } from './content-cipher.js';
import { responseScope } from './content-scopes.js';

/** The response columns that can hold what a caller wrote (or, for `error`, echo it). */
const contentColumns = ['instructions', 'tools', 'metadata', 'error'] as const;
type ContentColumn = (typeof contentColumns)[number];

const context = (
  r: { id: string; tenantId: string },
  labelId: string,
  column: ContentColumn,
): SealContext => ({
  tenant: r.tenantId,
  objectId: r.id,
  kind: `response.${column}`,
  label: labelId,
  scope: responseScope(r.id),
});

/**
 * Responses with instructions, tool definitions, metadata and error sealed under the response's own key
 * (`response:<id>`), so deleting the response shreds them. Request parameters, usage, status and ids stay
 * clear: queries and the durable-run engine filter on them and they hold no caller text.
 */
export function sealedResponseRepo(inner: ResponseRepo, cipher: ContentCipher): ResponseRepo {
  const transform = async <T extends Partial<Pick<ResponseRecord, ContentColumn>>>(
    row: { id: string; tenantId: string },
    labelId: string,
    values: T,
    how: 'seal' | 'open',
  ): Promise<T> => {
    const out: T = { ...values };
    for (const column of contentColumns) {
      const value = values[column];
      if (typeof value !== 'string') continue; // null stays null; absent stays absent
      const ctx = context(row, labelId, column);
      out[column] = await (how === 'seal' ? cipher.seal(ctx, value) : cipher.open(ctx, value));
    }
    return out;
  };
  return {
    async insert(r) {
      await inner.insert(await transform(r, r.labelId, r, 'seal'));
    },
    async get(scope, id) {
      const row = await inner.get(scope, id);
      return row && transform(row, row.labelId, row, 'open');
    },
    async update(scope, id, change) {
      const relabels = change.labelId !== undefined;
      if (!relabels && contentColumns.every((c) => change[c] === undefined))
        return inner.update(scope, id, change);
      // The label is in every content column's AAD: a new label means sealing them again under it. One
      // writer changes a response at a time (its turn or its run's lease holder), so read-then-write holds.
      const row = await inner.get(scope, id);
      if (!row) return false;
      const labelId = change.labelId ?? row.labelId;
      let next: ResponseUpdate = { ...change };
      if (relabels && labelId !== row.labelId) {
        const plain = await transform(row, row.labelId, pickContent(row), 'open');
        next = { ...plain, ...change };
      }
      return inner.update(scope, id, await transform(row, labelId, next, 'seal'));
    },
    delete: (scope, id) => inner.delete(scope, id),
    idsByPrincipal: (tenantId, principal) => inner.idsByPrincipal(tenantId, principal),
  };
}

const pickContent = (r: ResponseRecord): Pick<ResponseRecord, ContentColumn> => ({
  instructions: r.instructions,
  tools: r.tools,
  metadata: r.metadata,
  error: r.error,
});
