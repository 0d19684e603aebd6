import type { AuditLog } from '../audit/index.js';
import { EnclaveError, notFound } from '../errors/index.js';
import type { Principal } from '../identity/principal.js';
import { canonicalLabel, renderBanner, UNCLASSIFIED } from '../labels/index.js';
import { decideReview } from '../safety/index.js';
import type { ReviewStatus, SafetyReviewRecord } from '../store/repos/safety-repo.js';
import type { Store } from '../store/store.js';
import type { LabelAccess } from './label-access.js';

/**
 * The human review queue over the API (reviewer role). A reviewer sees only items whose label their clearance
 * reads (the label ids are a WHERE clause, as everywhere), and may not decide an item they sent themselves.
 */
export class SafetyReviews {
  constructor(
    private readonly store: Store,
    private readonly labels: LabelAccess,
    private readonly audit: AuditLog,
  ) {}

  async list(
    principal: Principal,
    page: { status?: ReviewStatus | undefined; after?: string | undefined; limit: number },
  ): Promise<{
    object: 'list';
    data: unknown[];
    first_id: string | null;
    last_id: string | null;
    has_more: boolean;
  }> {
    const { labelIds } = await this.labels.scope(principal);
    let after: { createdAt: number; id: string } | undefined;
    if (page.after !== undefined) {
      const at = await this.visible(principal, page.after);
      after = { createdAt: at.createdAt, id: at.id };
    }
    const rows = await this.store.safety.listReviews(principal.tenantId, {
      labelIds,
      limit: page.limit + 1,
      ...(page.status ? { status: page.status } : {}),
      ...(after ? { after } : {}),
    });
    const data = await Promise.all(rows.slice(0, page.limit).map((r) => this.render(r)));
    const ids = data.map((d) => d.id);
    return {
      object: 'list',
      data,
      first_id: ids[0] ?? null,
      last_id: ids[ids.length - 1] ?? null,
      has_more: rows.length > page.limit,
    };
  }

  async get(principal: Principal, id: string) {
    return this.render(await this.visible(principal, id));
  }

  async decide(
    principal: Principal,
    id: string,
    d: { decision: 'confirm' | 'correct'; categories?: string[] | undefined; note?: string | undefined },
  ) {
    const item = await this.visible(principal, id);
    if (item.requester !== null && item.requester === principal.subject) {
      throw new EnclaveError(
        'forbidden',
        'You sent this text yourself; another reviewer has to decide it (four-eyes rule).',
        { param: 'id' },
      );
    }
    const decided = await decideReview(this.store.safety, principal.tenantId, id, {
      decision: d.decision,
      reviewer: principal.subject,
      ...(d.categories ? { categories: d.categories } : {}),
      ...(d.note ? { note: d.note } : {}),
    });
    const label = canonicalLabel(item.labelId ? await this.labels.label(item.labelId) : UNCLASSIFIED);
    await this.audit.append({
      type: 'safety.verdict',
      time: Date.now(),
      tenant: principal.tenantId,
      principal: principal.subject,
      decision: 'allow',
      rule: `safety.review.${d.decision}`,
      objectId: id,
      objectLabel: label,
      label,
      detail: {
        verdictId: item.verdictId,
        stackCategories: item.categories,
        reviewerCategories: decided.decisionCategories ?? [],
      },
    });
    return this.render(decided);
  }

  /** The item when it exists in the tenant and the reader's clearance reads its label; 404 otherwise. */
  private async visible(principal: Principal, id: string): Promise<SafetyReviewRecord> {
    const item = await this.store.safety.reviewById(principal.tenantId, id);
    if (item && item.labelId !== null) {
      const { labelIds } = await this.labels.scope(principal);
      if (!labelIds.includes(item.labelId)) throw notFound('review item', id);
    }
    if (!item) throw notFound('review item', id);
    return item;
  }

  private async render(r: SafetyReviewRecord) {
    return {
      id: r.id,
      object: 'safety.review',
      status: r.status,
      surface: r.surface,
      action: r.action,
      categories: r.categories,
      text: r.text,
      label: r.labelId ? renderBanner(await this.labels.label(r.labelId)) : null,
      verdict_id: r.verdictId,
      requester: r.requester,
      decision_categories: r.decisionCategories,
      reviewer: r.reviewer,
      note: r.note,
      created_at: Math.floor(r.createdAt / 1000),
      decided_at: r.decidedAt === null ? null : Math.floor(r.decidedAt / 1000),
    };
  }
}
