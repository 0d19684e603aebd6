import { randomBytes } from 'node:crypto';
import { EnclaveError, notFound } from '../errors/index.js';
import type { Principal } from '../identity/principal.js';
import { canonicalLabel, canRead, dominates, lub, renderBanner, type Label } from '../labels/index.js';
import type { ReadScope } from '../store/read-scope.js';
import type { DowngradeRecord, DowngradeStatus } from '../store/repos/label-downgrade-repo.js';
import type { Store } from '../store/store.js';
import { parseClientLabel, type LabelAccess } from './label-access.js';

export type DowngradeKind = DowngradeRecord['objectKind'];

/**
 * Trusted downgrade: the only way data goes to a lower label. One person asks (naming the object, the lower
 * label and why), another decides: a reviewer who can read everything being relabelled and who is not the
 * requester (nor the user the requester acted for) — the two-person rule. Request, refusal and decision are
 * all recorded (`label.downgrade`) before anything is stored, so a failed append changes nothing.
 *
 * What an approval relabels: an item; a response and its own input and output items (history it continued
 * from keeps its labels); a conversation's container label, every item in it above the new label, and its
 * high-water mark (recomputed). Items already at or below the new label keep theirs.
 */
export class LabelDowngrades {
  constructor(private readonly deps: { store: Store; labels: LabelAccess }) {}

  async request(
    principal: Principal,
    input: { kind: DowngradeKind; id: string; to: string; reason: string },
  ): Promise<Record<string, unknown>> {
    const { labels, store } = this.deps;
    const to = parseTarget(input.to);
    const object = await this.find(principal, input.kind, input.id);
    const from = await labels.label(object.labelId);
    if (!dominates(from, to) || canonicalLabel(from) === canonicalLabel(to)) {
      throw new EnclaveError(
        'invalid_request',
        `'to' must be lower than the object's label ${renderBanner(from)}; a downgrade cannot raise or sidestep a label.`,
        { param: 'to' },
      );
    }
    const record: DowngradeRecord = {
      id: 'dgr_' + randomBytes(12).toString('hex'),
      tenantId: principal.tenantId,
      objectKind: input.kind,
      objectId: input.id,
      fromLabelId: object.labelId,
      toLabelId: await labels.ensure(to),
      requester: principal.subject,
      requesterOnBehalfOf: principal.onBehalfOf ?? null,
      reason: input.reason,
      status: 'pending',
      reviewer: null,
      createdAt: Date.now(),
      decidedAt: null,
    };
    await this.record(principal, record, true, 'downgrade.requested', from, to);
    await store.labelDowngrades.insert(record);
    return render(record, from, to);
  }

  /**
   * Requests the principal may see, oldest first: reviewers, admins and auditors see every request whose object
   * their clearance reads (the label filter is the store's WHERE clause, so hidden ones are neither counted nor
   * paged over); a `user` sees only their own (or those an agent made for them), as does anyone with `mine`.
   * The listing is recorded (`access.allow`, action `list`) with the ids it returned.
   */
  async list(
    principal: Principal,
    page: { status?: DowngradeStatus | undefined; mine: boolean; after?: string | undefined; limit: number },
  ): Promise<{
    object: 'list';
    data: Record<string, unknown>[];
    first_id: string | null;
    last_id: string | null;
    has_more: boolean;
  }> {
    const { labels, store } = this.deps;
    const rows = await store.labelDowngrades.list(await labels.scope(principal), {
      limit: page.limit,
      ...(page.status !== undefined ? { status: page.status } : {}),
      ...(page.mine || principal.role === 'user' ? { requester: ownRequests(principal) } : {}),
      ...(page.after !== undefined ? { after: page.after } : {}),
    });
    const shown = rows.slice(0, page.limit);
    await labels.decisions.access({
      principal,
      action: 'list',
      kind: 'downgrade',
      allow: true,
      rule: 'mac.read',
      sessionLabel: labels.clearance(principal).label,
      detail: { ids: shown.map((r) => r.id) },
    });
    const data = await Promise.all(
      shown.map(async (r) => render(r, await labels.label(r.fromLabelId), await labels.label(r.toLabelId))),
    );
    return {
      object: 'list',
      data,
      first_id: shown[0]?.id ?? null,
      last_id: shown.at(-1)?.id ?? null,
      has_more: rows.length > page.limit,
    };
  }

  /** One request, under the same rules as `list` (404 when hidden or, for a `user`, not their own; recorded). */
  async get(principal: Principal, id: string): Promise<Record<string, unknown>> {
    const { labels, store } = this.deps;
    const own = ownRequests(principal);
    const { record } = await labels.read(
      principal,
      { kind: 'downgrade', id },
      async (scope) => {
        const found = await store.labelDowngrades.get(scope, id);
        if (!found) return undefined;
        if (
          principal.role === 'user' &&
          found.requester !== own.subject &&
          found.requesterOnBehalfOf !== own.onBehalfOf
        )
          return undefined;
        return { ...found, labelId: found.fromLabelId };
      },
      () => notFound('downgrade request', id),
    );
    return render(record, await labels.label(record.fromLabelId), await labels.label(record.toLabelId));
  }

  async decide(
    principal: Principal,
    id: string,
    decision: 'approve' | 'reject',
  ): Promise<Record<string, unknown>> {
    const { labels, store } = this.deps;
    // A request is labelled like the object it names: a reviewer who cannot read that never sees it.
    const { record } = await labels.read(
      principal,
      { kind: 'downgrade', id, action: 'downgrade' },
      async (scope) => {
        const found = await store.labelDowngrades.get(scope, id);
        return found && { ...found, labelId: found.fromLabelId };
      },
      () => notFound('downgrade request', id),
    );
    const [from, to] = [await labels.label(record.fromLabelId), await labels.label(record.toLabelId)];
    if (samePerson(principal, record)) {
      await this.record(principal, record, false, 'downgrade.same_person', from, to);
      throw new EnclaveError(
        'forbidden',
        'A downgrade needs a second person: the requester (or the user they acted for) cannot review it.',
      );
    }
    if (record.status !== 'pending') throw alreadyDecided(record);
    if (decision === 'reject') {
      await this.record(principal, record, false, 'downgrade.rejected', from, to);
      if (
        !(await store.labelDowngrades.decide(
          await labels.scope(principal),
          id,
          decided(principal, 'rejected'),
        ))
      )
        throw alreadyDecided(record);
      return render({ ...record, status: 'rejected', reviewer: principal.subject }, from, to);
    }
    const object = await this.find(principal, record.objectKind, record.objectId);
    if (object.labelId !== record.fromLabelId)
      throw new EnclaveError('conflict', 'The object was relabelled since this request was made; ask again.');
    if (!canRead(labels.clearance(principal), object.highWater ?? from)) {
      await this.record(principal, record, false, 'downgrade.above_clearance', from, to);
      throw new EnclaveError(
        'label_denied',
        'Reviewing this downgrade needs a clearance that reads everything it relabels.',
      );
    }
    await this.record(principal, record, true, 'downgrade.approved', from, to);
    await store.transaction(async (tx) => {
      const scope = await labels.scope(principal);
      if (!(await tx.labelDowngrades.decide(scope, id, decided(principal, 'approved'))))
        throw alreadyDecided(record);
      await this.relabel(tx, scope, record, to);
    });
    return render({ ...record, status: 'approved', reviewer: principal.subject }, from, to);
  }

  private async relabel(tx: Store, scope: ReadScope, r: DowngradeRecord, to: Label): Promise<void> {
    const { labels } = this.deps;
    const lower = async (itemId: string): Promise<Label | undefined> => {
      const item = await tx.items.get(scope, itemId);
      if (!item) return undefined;
      const label = await labels.label(item.labelId, tx);
      if (dominates(to, label)) return label;
      await tx.items.relabel(scope, itemId, r.toLabelId);
      return to;
    };
    if (r.objectKind === 'item') {
      await tx.items.relabel(scope, r.objectId, r.toLabelId);
    } else if (r.objectKind === 'response') {
      const response = await tx.responses.get(scope, r.objectId);
      if (!response) throw notFound('response', r.objectId);
      for (const itemId of [...response.inputItemIds, ...response.outputItemIds]) await lower(itemId);
      await tx.responses.update(scope, r.objectId, { labelId: r.toLabelId });
    } else {
      let highWater: Label | undefined;
      for (let after: string | undefined; ;) {
        const page = await tx.items.listConversation(scope, r.objectId, { after, limit: 100, order: 'asc' });
        for (const item of page.data) {
          const label = await lower(item.id);
          if (label) highWater = highWater ? lub(highWater, label) : label;
        }
        if (!page.hasMore) break;
        after = page.data.at(-1)?.id;
      }
      const highWaterLabelId = highWater ? await labels.ensure(highWater, tx) : r.toLabelId;
      await tx.conversations.relabel(scope, r.objectId, {
        labelId: r.toLabelId,
        highWaterLabelId,
        now: Date.now(),
      });
    }
  }

  /** The object as the principal may see it (404 otherwise, recorded), with a conversation's high-water mark. */
  private async find(
    principal: Principal,
    kind: DowngradeKind,
    id: string,
  ): Promise<{ labelId: string; highWater?: Label }> {
    const { labels, store } = this.deps;
    const object = { kind, id, action: 'downgrade' as const };
    if (kind === 'item')
      return (
        await labels.read(
          principal,
          object,
          (s) => store.items.get(s, id),
          () => notFound('item', id),
        )
      ).record;
    if (kind === 'response')
      return (
        await labels.read(
          principal,
          object,
          (s) => store.responses.get(s, id),
          () => notFound('response', id),
        )
      ).record;
    const { record } = await labels.read(
      principal,
      object,
      (s) => store.conversations.get(s, id),
      () => notFound('conversation', id),
    );
    return { labelId: record.labelId, highWater: await labels.label(record.highWaterLabelId) };
  }

  private record(
    principal: Principal,
    r: DowngradeRecord,
    allow: boolean,
    rule: `downgrade.${string}`,
    from: Label,
    to: Label,
  ): Promise<void> {
    return this.deps.labels.decisions.downgrade({
      principal,
      allow,
      rule,
      requestId: r.id,
      objectKind: r.objectKind,
      objectId: r.objectId,
      from,
      to,
      requester: r.requester,
    });
  }
}

function parseTarget(text: string): Label {
  try {
    return parseClientLabel(text);
  } catch (error) {
    if (error instanceof EnclaveError)
      throw new EnclaveError(error.code, `to: ${error.message}`, { param: 'to' });
    throw error;
  }
}

/** Subjects compared without the `key:`/`oidc:` prefix an on-behalf-of user carries. */
const bare = (subject: string | null | undefined): string | undefined =>
  subject == null ? undefined : subject.replace(/^(key|oidc):/, '');

/** A principal's own requests: made by them, or by an agent acting for them (see on-behalf-of.ts). */
const ownRequests = (p: Principal) => ({
  subject: p.subject,
  onBehalfOf: `${p.via === 'oidc' ? 'oidc' : 'key'}:${p.subject}`,
});

function samePerson(reviewer: Principal, r: DowngradeRecord): boolean {
  const requesters = new Set([bare(r.requester), bare(r.requesterOnBehalfOf)].filter((s) => s !== undefined));
  return [bare(reviewer.subject), bare(reviewer.onBehalfOf)].some(
    (s) => s !== undefined && requesters.has(s),
  );
}

const decided = (principal: Principal, status: 'approved' | 'rejected') => ({
  status,
  reviewer: principal.subject,
  now: Date.now(),
});

const alreadyDecided = (r: DowngradeRecord): EnclaveError =>
  new EnclaveError('conflict', `Downgrade request ${r.id} has already been decided (${r.status}).`);

function render(r: DowngradeRecord, from: Label, to: Label): Record<string, unknown> {
  return {
    id: r.id,
    object: 'label.downgrade',
    target: { type: r.objectKind, id: r.objectId },
    from: renderBanner(from),
    to: renderBanner(to),
    reason: r.reason,
    status: r.status,
    requested_by: r.requester,
    reviewed_by: r.reviewer,
    created_at: Math.floor(r.createdAt / 1000),
  };
}
