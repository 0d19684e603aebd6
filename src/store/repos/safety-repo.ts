import { sql, type Kysely, type Selectable } from 'kysely';
import { guarded } from '../db-errors.js';
import type { Dialect } from '../migrations/migration.js';
import type { Database } from '../schema.js';
import type { SafetyReviewTable } from '../safety-schema.js';
import { insertText, runText, SqlTexts } from './fixed-sql.js';

export interface SafetyVerdictRecord {
  id: string;
  tenantId: string;
  surface: string;
  subject: string | null;
  action: string;
  flagged: boolean;
  score: number;
  /** The verdict's categories (category, score, layer, spans) as the safety domain produced them. */
  categories: unknown[];
  policyVersion: string;
  modelVersion: string;
  textSha256: string;
  createdAt: number;
}

export type ReviewStatus = 'pending' | 'confirmed' | 'corrected';

export interface SafetyReviewRecord {
  id: string;
  tenantId: string;
  verdictId: string;
  labelId: string | null;
  /** Who sent the text (key id or OIDC subject); a reviewer may not decide their own request. */
  requester: string | null;
  surface: string;
  text: string;
  action: string;
  /** Categories the stack named. */
  categories: string[];
  status: ReviewStatus;
  /** The reviewer's categories: equal to `categories` when confirmed, the correction otherwise ([] = not harmful). */
  decisionCategories: string[] | null;
  reviewer: string | null;
  note: string | null;
  decidedAt: number | null;
  createdAt: number;
}

export interface ReviewDecision {
  status: 'confirmed' | 'corrected';
  categories: string[];
  reviewer: string;
  note?: string | null;
  decidedAt: number;
}

export interface SafetyRepo {
  insertVerdict(record: SafetyVerdictRecord): Promise<void>;
  verdictById(tenantId: string, id: string): Promise<SafetyVerdictRecord | undefined>;
  enqueueReview(record: SafetyReviewRecord): Promise<void>;
  reviewById(tenantId: string, id: string): Promise<SafetyReviewRecord | undefined>;
  /** A tenant's queue, oldest first; `labelIds` limits it to items the reader may see. */
  listReviews(
    tenantId: string,
    filter?: {
      status?: ReviewStatus;
      labelIds?: readonly string[];
      limit?: number;
      /** Keyset cursor: items after this one in queue order (created_at, id). */
      after?: { createdAt: number; id: string };
    },
  ): Promise<SafetyReviewRecord[]>;
  /** Decides a pending item; false when it does not exist or was already decided (first reviewer wins). */
  decideReview(tenantId: string, id: string, decision: ReviewDecision): Promise<boolean>;
  /** Every decided item across tenants (for retraining), oldest first. */
  listDecided(since?: number): Promise<SafetyReviewRecord[]>;
  /** Deletes every review item a requester's traffic produced (user erasure); returns how many. */
  deleteByRequester(tenantId: string, requester: string): Promise<number>;
}

const reviewRecord = (r: Selectable<SafetyReviewTable>): SafetyReviewRecord => ({
  id: r.id,
  tenantId: r.tenant_id,
  verdictId: r.verdict_id,
  labelId: r.label_id,
  requester: r.requester,
  surface: r.surface,
  text: r.text,
  action: r.action,
  categories: JSON.parse(r.categories) as string[],
  status: r.status as ReviewStatus,
  decisionCategories: r.decision_categories === null ? null : (JSON.parse(r.decision_categories) as string[]),
  reviewer: r.reviewer,
  note: r.note,
  decidedAt: r.decided_at === null ? null : Number(r.decided_at),
  createdAt: Number(r.created_at),
});

const verdictColumns = [
  'id',
  'tenant_id',
  'surface',
  'subject',
  'action',
  'flagged',
  'score',
  'categories',
  'policy_version',
  'model_version',
  'text_sha256',
  'created_at',
] as const;

// Each turn records its input and output verdicts: a fixed text (see fixed-sql.ts).
const texts = new SqlTexts(2);
const insertVerdictSql = (dialect: Dialect) =>
  texts.get(dialect, 'verdict', () => insertText('safety_verdicts', verdictColumns));

export function safetyRepo(db: Kysely<Database>, dialect: Dialect): SafetyRepo {
  return {
    async insertVerdict(v) {
      const values: unknown[] = [
        v.id,
        v.tenantId,
        v.surface,
        v.subject,
        v.action,
        v.flagged ? 1 : 0,
        v.score,
        JSON.stringify(v.categories),
        v.policyVersion,
        v.modelVersion,
        v.textSha256,
        v.createdAt,
      ];
      await guarded('safety verdict', () => runText(db, insertVerdictSql(dialect), values));
    },
    async verdictById(tenantId, id) {
      const r = await db
        .selectFrom('safety_verdicts')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .where('id', '=', id)
        .executeTakeFirst();
      return (
        r && {
          id: r.id,
          tenantId: r.tenant_id,
          surface: r.surface,
          subject: r.subject,
          action: r.action,
          flagged: Number(r.flagged) === 1,
          score: Number(r.score),
          categories: JSON.parse(r.categories) as unknown[],
          policyVersion: r.policy_version,
          modelVersion: r.model_version,
          textSha256: r.text_sha256,
          createdAt: Number(r.created_at),
        }
      );
    },
    async enqueueReview(v) {
      await guarded('safety review item', () =>
        db
          .insertInto('safety_reviews')
          .values({
            id: v.id,
            tenant_id: v.tenantId,
            verdict_id: v.verdictId,
            label_id: v.labelId,
            requester: v.requester,
            surface: v.surface,
            text: v.text,
            action: v.action,
            categories: JSON.stringify(v.categories),
            status: v.status,
            decision_categories: v.decisionCategories === null ? null : JSON.stringify(v.decisionCategories),
            reviewer: v.reviewer,
            note: v.note,
            decided_at: v.decidedAt,
            created_at: v.createdAt,
          })
          .execute(),
      );
    },
    async reviewById(tenantId, id) {
      const r = await db
        .selectFrom('safety_reviews')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .where('id', '=', id)
        .executeTakeFirst();
      return r && reviewRecord(r);
    },
    async listReviews(tenantId, filter = {}) {
      let q = db.selectFrom('safety_reviews').selectAll().where('tenant_id', '=', tenantId);
      if (filter.status) q = q.where('status', '=', filter.status);
      const after = filter.after;
      if (after)
        q = q.where((eb) =>
          eb.or([
            eb('created_at', '>', after.createdAt),
            eb.and([eb('created_at', '=', after.createdAt), eb('id', '>', after.id)]),
          ]),
        );
      if (filter.labelIds) {
        const ids = [...filter.labelIds];
        // Fail-closed: an item without a label is shown to no one who reads through a label filter.
        q = ids.length === 0 ? q.where(sql<boolean>`1 = 0`) : q.where('label_id', 'in', ids);
      }
      const rows = await q
        .orderBy('created_at')
        .orderBy('id')
        .limit(filter.limit ?? 100)
        .execute();
      return rows.map(reviewRecord);
    },
    async decideReview(tenantId, id, d) {
      const result = await db
        .updateTable('safety_reviews')
        .set({
          status: d.status,
          decision_categories: JSON.stringify(d.categories),
          reviewer: d.reviewer,
          note: d.note ?? null,
          decided_at: d.decidedAt,
        })
        .where('tenant_id', '=', tenantId)
        .where('id', '=', id)
        .where('status', '=', 'pending')
        .executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },
    async listDecided(since = 0) {
      const rows = await db
        .selectFrom('safety_reviews')
        .selectAll()
        .where('status', '!=', 'pending')
        .where('decided_at', '>=', since)
        .orderBy('decided_at')
        .orderBy('id')
        .execute();
      return rows.map(reviewRecord);
    },
    async deleteByRequester(tenantId, requester) {
      const result = await db
        .deleteFrom('safety_reviews')
        .where('tenant_id', '=', tenantId)
        .where('requester', '=', requester)
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}
