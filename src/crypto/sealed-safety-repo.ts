import type { SafetyRepo, SafetyReviewRecord } from '../store/repos/safety-repo.js';
import type { ContentCipher, SealContext } from './content-cipher.js';
import { userScope } from './content-scopes.js';

/**
 * A review item's text is the flagged input or output itself — often the most sensitive text Enclave
 * keeps — so it is sealed under the requester's `user:` scope (erasing the user destroys it) or, for a
 * request without a subject, under the item's own `review:<id>` scope.
 */
const reviewContext = (
  r: Pick<SafetyReviewRecord, 'id' | 'tenantId' | 'labelId' | 'requester'>,
  column: 'text' | 'note' = 'text',
): SealContext => ({
  tenant: r.tenantId,
  objectId: r.id,
  kind: `safety_review.${column}`,
  label: r.labelId ?? 'unlabelled',
  scope: r.requester === null ? `review:${r.id}` : userScope(r.requester),
});

/**
 * The safety repo with review texts (and reviewers' notes, which may quote them) sealed on write and opened
 * on read; verdicts hold only hashes.
 */
export function sealedSafetyRepo(inner: SafetyRepo, cipher: ContentCipher): SafetyRepo {
  const open = async (r: SafetyReviewRecord): Promise<SafetyReviewRecord> => ({
    ...r,
    text: await cipher.open(reviewContext(r), r.text),
    note: r.note === null ? null : await cipher.open(reviewContext(r, 'note'), r.note),
  });
  return {
    insertVerdict: (v) => inner.insertVerdict(v),
    verdictById: (tenantId, id) => inner.verdictById(tenantId, id),
    async enqueueReview(r) {
      await inner.enqueueReview({
        ...r,
        text: await cipher.seal(reviewContext(r), r.text),
        note: r.note === null ? null : await cipher.seal(reviewContext(r, 'note'), r.note),
      });
    },
    async reviewById(tenantId, id) {
      const row = await inner.reviewById(tenantId, id);
      return row && open(row);
    },
    async listReviews(tenantId, filter) {
      return Promise.all((await inner.listReviews(tenantId, filter)).map(open));
    },
    async decideReview(tenantId, id, decision) {
      if (decision.note === undefined || decision.note === null)
        return inner.decideReview(tenantId, id, decision);
      const row = await inner.reviewById(tenantId, id);
      if (!row) return false;
      return inner.decideReview(tenantId, id, {
        ...decision,
        note: await cipher.seal(reviewContext(row, 'note'), decision.note),
      });
    },
    async listDecided(since) {
      return Promise.all((await inner.listDecided(since)).map(open));
    },
    deleteByRequester: (tenantId, requester) => inner.deleteByRequester(tenantId, requester),
  };
}
