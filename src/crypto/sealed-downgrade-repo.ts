import type { DowngradeRecord, LabelDowngradeRepo } from '../store/repos/label-downgrade-repo.js';
import type { ContentCipher, SealContext } from './content-cipher.js';

/**
 * Shred scope of downgrade justifications: one per tenant. They stay readable after the object they speak
 * of is deleted, as the record of why a reviewer lowered a label (the audit log holds only the decision).
 */
export const downgradeScope = 'downgrades';

const reasonContext = (r: Pick<DowngradeRecord, 'id' | 'tenantId' | 'fromLabelId'>): SealContext => ({
  tenant: r.tenantId,
  objectId: r.id,
  kind: 'label_downgrade.reason',
  // The label reads are scoped by: a request moved under another label no longer opens.
  label: r.fromLabelId,
  scope: downgradeScope,
});

/** Trusted-downgrade requests with the requester's justification (free text) sealed; the rest stays clear. */
export function sealedDowngradeRepo(inner: LabelDowngradeRepo, cipher: ContentCipher): LabelDowngradeRepo {
  const open = async (r: DowngradeRecord): Promise<DowngradeRecord> => ({
    ...r,
    reason: await cipher.open(reasonContext(r), r.reason),
  });
  return {
    async insert(record) {
      await inner.insert({ ...record, reason: await cipher.seal(reasonContext(record), record.reason) });
    },
    async get(scope, id) {
      const row = await inner.get(scope, id);
      return row && open(row);
    },
    async list(scope, filter) {
      return Promise.all((await inner.list(scope, filter)).map(open));
    },
    decide: (scope, id, decision) => inner.decide(scope, id, decision),
  };
}
