import { EnclaveError } from '../errors/index.js';
import {
  canonicalLabel,
  lub,
  parseBanner,
  parseCanonicalLabel,
  visibleLabelIds,
  type Clearance,
} from '../labels/index.js';
import type { LabelRepo } from '../store/repos/label-repo.js';
import type { ReadScope } from '../store/repos/memory-repo.js';
import type { LubLabels } from './memory-writer.js';

/** A memory's label is the high-water mark (lub) of its sources' labels, registered in the catalogue. */
export function labelRollup(labels: LabelRepo): LubLabels {
  return async (ids) => {
    let acc;
    for (const id of new Set(ids)) {
      const entry = await labels.byId(id);
      if (!entry) throw new EnclaveError('invalid_label', `Unknown label id ${id}.`);
      const label = parseCanonicalLabel(entry.canonical);
      acc = acc ? lub(acc, label) : label;
    }
    if (!acc) throw new EnclaveError('invalid_label', 'A memory needs at least one source label.');
    return labels.ensure(canonicalLabel(acc));
  };
}

/** A banner ("SECRET//NOFORN") → its catalogue id, registering it if new. */
export async function labelIdOfBanner(labels: LabelRepo, banner: string): Promise<string> {
  return labels.ensure(canonicalLabel(parseBanner(banner)));
}

/** The read scope of a clearance: the catalogue's labels it may read, for the WHERE clause. */
export async function readScopeFor(
  labels: LabelRepo,
  tenantId: string,
  clearance: Clearance,
): Promise<ReadScope> {
  return { tenantId, labelIds: visibleLabelIds(await labels.list(), clearance) };
}
