import { EnclaveError, notFound } from '../errors/index.js';
import type { Principal } from '../identity/principal.js';
import { canonicalLabel, renderBanner } from '../labels/index.js';
import type { QuarantineRow } from '../store/repos/memory-repo.js';
import type { Store } from '../store/store.js';
import type { LabelAccess } from './label-access.js';
import { memoryUserOf, type MemoryRuntime } from './memory-hooks.js';

export interface QuarantineDeps {
  memory: MemoryRuntime;
  labels: LabelAccess;
  store: Store;
}

/**
 * The human side of the memory quarantine (`/v1/memories/quarantine`, reviewer role). Writes the memory
 * screen flagged (planted instructions, secrets, red-line content) wait here, out of recall. A reviewer sees
 * only entries whose label their clearance reads (label ids in the WHERE clause) and may not decide a write
 * into their own memory (four eyes). Release: the record enters memory and recall. Reject: the entry is
 * deleted and the audit log gets a deletion receipt. Every decision is audited before it takes effect.
 */
export class MemoryQuarantine {
  constructor(private readonly deps: QuarantineDeps) {}

  async list(
    principal: Principal,
    page: { status: QuarantineRow['status']; after?: string | undefined; limit: number },
  ) {
    const { labelIds } = await this.deps.labels.scope(principal);
    let after: { createdAt: number; id: string } | undefined;
    if (page.after !== undefined) {
      const at = await this.visible(principal, page.after);
      after = { createdAt: at.createdAt, id: at.id };
    }
    const rows = await this.deps.store.memory.quarantine.list(principal.tenantId, {
      labelIds,
      status: page.status,
      limit: page.limit + 1,
      after,
    });
    const data = await Promise.all(rows.slice(0, page.limit).map((r) => this.render(r)));
    return {
      object: 'list' as const,
      data,
      first_id: data[0]?.id ?? null,
      last_id: data[data.length - 1]?.id ?? null,
      has_more: rows.length > page.limit,
    };
  }

  async get(principal: Principal, id: string) {
    return this.render(await this.visible(principal, id));
  }

  async decide(
    principal: Principal,
    id: string,
    d: { decision: 'release' | 'reject'; note?: string | undefined },
  ) {
    const entry = await this.visible(principal, id);
    if (entry.owner.userId !== '' && entry.owner.userId === memoryUserOf(principal)) {
      throw new EnclaveError(
        'forbidden',
        'This write is for your own memory; another reviewer has to decide it (four-eyes rule).',
        { param: 'id' },
      );
    }
    if (entry.status !== 'pending')
      throw new EnclaveError('conflict', `Quarantined memory '${id}' was already ${entry.status}.`);
    const label = canonicalLabel(await this.deps.labels.label(entry.labelId));
    const who = { tenant: principal.tenantId, principal: principal.subject };
    // The decision is recorded before it takes effect (fail-closed), as every memory write and deletion.
    await this.deps.memory.audit.append({
      type: d.decision === 'release' ? 'memory.write' : 'memory.delete',
      time: Date.now(),
      ...who,
      decision: 'allow',
      rule: `memory.quarantine.${d.decision}`,
      objectId: id,
      objectLabel: label,
      label,
      detail: {
        user: entry.owner.userId,
        ...(entry.owner.agentId ? { agent: entry.owner.agentId } : {}),
      },
    });
    const status = d.decision === 'release' ? 'released' : 'rejected';
    // First decision wins: a concurrent one finds the entry no longer pending.
    if (!(await this.deps.store.memory.queue.decide(principal.tenantId, id, status, Date.now())))
      throw new EnclaveError('conflict', `Quarantined memory '${id}' was decided by someone else meanwhile.`);
    if (d.decision === 'release') {
      const outcome = await this.deps.memory.service.releaseQuarantined(entry);
      // The text now lives in the record (sealed, forgettable with it); no copy stays in the quarantine.
      await this.deps.store.memory.quarantine.remove(principal.tenantId, id);
      return { id, object: 'memory.quarantine', status, memory: outcome.id, outcome: outcome.status };
    }
    await this.deps.store.memory.quarantine.remove(principal.tenantId, id);
    const receipt = { records: 0, sources: 0, quarantined: 1 };
    await this.deps.memory.audit.append({
      type: 'deletion.receipt',
      time: Date.now(),
      ...who,
      rule: 'memory.quarantine.reject',
      objectId: id,
      label,
      detail: { scope: 'memory', target: `quarantine ${id}`, ...receipt },
    });
    return { id, object: 'memory.quarantine', status, deleted: true, receipt };
  }

  /** The entry when it exists in the tenant and the reader's clearance reads its label; 404 otherwise. */
  private async visible(principal: Principal, id: string): Promise<QuarantineRow> {
    const { labelIds } = await this.deps.labels.scope(principal);
    const entry = await this.deps.store.memory.quarantine.byId(principal.tenantId, id, labelIds);
    if (!entry) throw notFound('quarantined memory', id);
    return entry;
  }

  private async render(q: QuarantineRow) {
    return {
      id: q.id,
      object: 'memory.quarantine' as const,
      status: q.status,
      kind: q.kind,
      text: q.text,
      reason: q.reason,
      user: q.owner.userId || null,
      agent: q.owner.agentId || null,
      source_ids: q.sourceIds,
      label: renderBanner(await this.deps.labels.label(q.labelId)),
      created_at: Math.floor(q.createdAt / 1000),
      decided_at: q.decidedAt === null ? null : Math.floor(q.decidedAt / 1000),
    };
  }
}
