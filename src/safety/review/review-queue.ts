import { createHash, randomUUID } from 'node:crypto';
import { EnclaveError } from '../../errors/index.js';
import type { SafetyRepo, SafetyReviewRecord } from '../../store/repos/safety-repo.js';
import { harmCategories, isCategory, isHarmCategory, type Category, type HarmCategory } from '../taxonomy.js';
import type { LabelledText } from '../training/labelled-text.js';
import { surfaces, type Surface, type Verdict } from '../verdict.js';

/** Flagged, blocked and escalated items go to a human; allowed and redact-only ones are just recorded. */
export const needsReview = (verdict: Verdict): boolean =>
  verdict.action === 'flag' || verdict.action === 'block' || verdict.action === 'escalate';

export interface RecordVerdictInput {
  tenantId: string;
  surface: Surface;
  text: string;
  verdict: Verdict;
  /** What was classified (response id, tool call id, memory id). */
  subject?: string | null;
  /** Security label of the text, so the queue shows it only to reviewers cleared for it. */
  labelId?: string | null;
  /** Who sent the text (key id or OIDC subject), so a reviewer never decides on their own request. */
  requester?: string | null;
  now?: number;
}

/** A verdict's ids, known before its rows are written, and the write of those rows. */
export interface VerdictRecord {
  verdictId: string;
  reviewId: string | null;
  write(repo: SafetyRepo): Promise<void>;
}

/**
 * The rows of a verdict (always; the text only as a hash) and, when it needs a human, its review item. An
 * escalated item stays `pending` until a reviewer decides: the runtime holds the request on that status. The
 * ids come first so the verdict's audit entry can name them and commit in the same transaction as the rows.
 */
export function verdictRecord(input: RecordVerdictInput): VerdictRecord {
  const now = input.now ?? Date.now();
  const verdictId = `sv_${randomUUID().replaceAll('-', '')}`;
  const reviewId = needsReview(input.verdict) ? `sr_${randomUUID().replaceAll('-', '')}` : null;
  return {
    verdictId,
    reviewId,
    async write(repo) {
      await repo.insertVerdict({
        id: verdictId,
        tenantId: input.tenantId,
        surface: input.surface,
        subject: input.subject ?? null,
        action: input.verdict.action,
        flagged: input.verdict.flagged,
        score: input.verdict.score,
        categories: input.verdict.categories,
        policyVersion: input.verdict.policyVersion,
        modelVersion: input.verdict.modelVersion,
        textSha256: createHash('sha256').update(input.text).digest('hex'),
        createdAt: now,
      });
      if (reviewId === null) return;
      await repo.enqueueReview({
        id: reviewId,
        tenantId: input.tenantId,
        verdictId,
        labelId: input.labelId ?? null,
        requester: input.requester ?? null,
        surface: input.surface,
        text: input.text,
        action: input.verdict.action,
        categories: input.verdict.categories.map((c) => c.category),
        status: 'pending',
        decisionCategories: null,
        reviewer: null,
        note: null,
        decidedAt: null,
        createdAt: now,
      });
    },
  };
}

/** Records a verdict and its review item now (see verdictRecord). */
export async function recordVerdict(
  repo: SafetyRepo,
  input: RecordVerdictInput,
): Promise<{ verdictId: string; reviewId: string | null }> {
  const record = verdictRecord(input);
  await record.write(repo);
  return { verdictId: record.verdictId, reviewId: record.reviewId };
}

export interface ReviewerDecision {
  /** `confirm`: the stack was right. `correct`: replace the categories (`[]` = the text was not harmful). */
  decision: 'confirm' | 'correct';
  categories?: string[];
  reviewer: string;
  note?: string;
  now?: number;
}

/** Applies a reviewer's decision to a pending item; the first decision wins (a second one is a conflict). */
export async function decideReview(
  repo: SafetyRepo,
  tenantId: string,
  reviewId: string,
  d: ReviewerDecision,
): Promise<SafetyReviewRecord> {
  const item = await repo.reviewById(tenantId, reviewId);
  if (!item) throw new EnclaveError('not_found', `No review item '${reviewId}'.`);
  const unknown = (d.categories ?? []).filter((c) => !isCategory(c));
  if (unknown.length > 0)
    throw new EnclaveError(
      'invalid_request',
      `Unknown safety categories: ${unknown.join(', ')} (see docs/safety.md).`,
      { param: 'categories' },
    );
  if (d.decision === 'correct' && d.categories === undefined) {
    throw new EnclaveError(
      'invalid_request',
      'A correction needs `categories` (use [] when the text is not harmful).',
      { param: 'categories' },
    );
  }
  const categories = d.decision === 'confirm' ? item.categories : (d.categories ?? []);
  const ok = await repo.decideReview(tenantId, reviewId, {
    status: d.decision === 'confirm' ? 'confirmed' : 'corrected',
    categories,
    reviewer: d.reviewer,
    note: d.note ?? null,
    decidedAt: d.now ?? Date.now(),
  });
  if (!ok) throw new EnclaveError('conflict', `Review item '${reviewId}' was already decided.`);
  const decided = await repo.reviewById(tenantId, reviewId);
  if (!decided) throw new EnclaveError('not_found', `No review item '${reviewId}'.`);
  return decided;
}

/**
 * Decided review items as training rows: harmful with the reviewer's harm categories, or benign when the
 * reviewer cleared every harm category (a corrected false positive is the most valuable row there is).
 */
export async function reviewedTrainingRows(repo: SafetyRepo, since?: number): Promise<LabelledText[]> {
  return (await repo.listDecided(since)).map((item) => {
    const harm = (item.decisionCategories ?? []).filter((c): c is HarmCategory => isHarmCategory(c));
    const surface: Surface = (surfaces as readonly string[]).includes(item.surface)
      ? (item.surface as Surface)
      : 'input';
    return {
      source: 'review',
      id: item.id,
      text: item.text,
      label: harm.length > 0 ? 1 : 0,
      categories: harm,
      surface,
    };
  });
}

export type { Category };
export const reviewableCategories: readonly HarmCategory[] = harmCategories;
