import { EnclaveError, notFound } from '../errors/index.js';
import type { Principal } from '../identity/principal.js';
import { canonicalLabel, lub, renderBanner, type Label } from '../labels/index.js';
import { memoryKinds, type MemoryKind, type MemoryRecord } from '../memory/index.js';
import type { MemoryReader, OwnerKey, RecordRow } from '../store/repos/memory-repo.js';
import type { Store } from '../store/store.js';
import { listPage } from './conversations.js';
import type { LabelAccess } from './label-access.js';
import { requestLabel } from './label-gate.js';
import { memoryUserOf, type MemoryRuntime } from './memory-hooks.js';

export interface MemoryDeps {
  memory: MemoryRuntime;
  labels: LabelAccess;
  store: Store;
}

/** Whose memories a request addresses: a user their own; an admin any user of the tenant (`user`). */
export interface MemoryTarget {
  user?: string | undefined;
  agent?: string | undefined;
}

export interface MemoryWriteInput {
  text: string;
  kind?: MemoryKind | undefined;
  subject?: string | undefined;
  attribute?: string | undefined;
  value?: string | undefined;
  /** Epoch ms the fact starts to hold; absent = now. */
  validFrom?: number | undefined;
  label?: string | undefined;
}

const missing = (id: string) => notFound('memory', id);

/**
 * The native memory API (`/v1/memories`). Reads run inside the caller's ReadScope (labels and tenant in the
 * WHERE clause: another tenant's or a higher-labelled memory is a 404); users act on their own memories,
 * admins on any user's of their tenant. Nothing is overwritten: an update is a new record that supersedes
 * the old one (which stays as history). Reads and writes are audited; deletions leave a deletion receipt.
 */
export class Memories {
  constructor(private readonly deps: MemoryDeps) {}

  private owner(principal: Principal, target: MemoryTarget): OwnerKey {
    const self = memoryUserOf(principal);
    const user = target.user ?? self;
    if (user !== self && principal.role !== 'admin')
      throw new EnclaveError('forbidden', "Only an admin may address another user's memories.");
    return { tenantId: principal.tenantId, userId: user, agentId: target.agent ?? '' };
  }

  private async reader(principal: Principal, target: MemoryTarget): Promise<MemoryReader> {
    const owner = this.owner(principal, target);
    return { scope: await this.deps.labels.scope(principal), userId: owner.userId, agentId: owner.agentId };
  }

  /** A record the caller may act on: visible under its scope and its own (or, for an admin, its tenant's). */
  private async record(principal: Principal, id: string, write = false): Promise<RecordRow> {
    const scope = await this.deps.labels.scope(principal);
    const row = await this.deps.store.memory.records.byId(scope, id);
    const self = memoryUserOf(principal);
    const mine = row && (row.owner.userId === self || (!write && row.owner.userId === ''));
    if (!row || (!mine && principal.role !== 'admin')) throw missing(id);
    return row;
  }

  async list(principal: Principal, target: MemoryTarget & { limit: number; includeSuperseded: boolean }) {
    const reader = await this.reader(principal, target);
    const rows = await this.deps.store.memory.records.list(reader, {
      limit: target.limit + 1,
      includeSuperseded: target.includeSuperseded,
    });
    await this.audit(principal, 'memory.read', rows.slice(0, target.limit), 'list');
    return listPage(
      await Promise.all(rows.slice(0, target.limit).map((r) => this.render(r))),
      rows.length > target.limit,
    );
  }

  async get(principal: Principal, id: string) {
    const row = await this.record(principal, id);
    await this.audit(principal, 'memory.read', [row], 'get');
    return this.render(row);
  }

  async search(
    principal: Principal,
    input: MemoryTarget & { query: string; k: number; includeSuperseded: boolean },
  ) {
    const reader = await this.reader(principal, input);
    const hits = await this.deps.memory.service.recall(reader, input.query, {
      k: input.k,
      includeSuperseded: input.includeSuperseded,
      excludeKinds: ['summary'],
    });
    await this.audit(
      principal,
      'memory.read',
      hits.map((h) => h.record),
      'search',
    );
    const data = await Promise.all(
      hits.map(async (h) => ({ ...(await this.render(h.record)), score: Number(h.score.toFixed(6)) })),
    );
    return listPage(data, false);
  }

  async create(principal: Principal, target: MemoryTarget, input: MemoryWriteInput) {
    const owner = this.owner(principal, target);
    const label = await requestLabel(this.deps.labels, principal, input.label);
    return this.write(principal, owner, label, input, undefined);
  }

  /** A new version of a record: written as a new record that supersedes the old (history is kept). */
  async update(principal: Principal, id: string, input: MemoryWriteInput) {
    const old = await this.record(principal, id, true);
    if (old.supersededAt !== null)
      throw new EnclaveError('conflict', `Memory '${id}' was already superseded by '${old.supersededBy}'.`);
    // No write down: the new version is labelled at least as high as what it replaces.
    const asked = await requestLabel(this.deps.labels, principal, input.label);
    const label = lub(asked, await this.deps.labels.label(old.labelId));
    await this.deps.labels.requireReadable(principal, label, 'The updated memory');
    return this.write(
      principal,
      old.owner,
      label,
      {
        ...input,
        kind: input.kind ?? (old.kind as MemoryKind),
        subject: input.subject ?? old.subject ?? undefined,
        attribute: input.attribute ?? old.attribute ?? undefined,
      },
      old,
    );
  }

  async delete(principal: Principal, id: string) {
    const row = await this.record(principal, id, true);
    const labelled = canonicalLabel(await this.deps.labels.label(row.labelId));
    // The intent is recorded first (fail-closed); the receipt of what went follows from the service.
    await this.deps.memory.audit.append({
      type: 'memory.delete',
      time: Date.now(),
      tenant: principal.tenantId,
      principal: principal.subject,
      ...(principal.onBehalfOf !== undefined ? { onBehalfOf: principal.onBehalfOf } : {}),
      decision: 'allow',
      rule: 'memory.forget',
      objectId: id,
      objectLabel: labelled,
      label: labelled,
    });
    const receipt = await this.deps.memory.service.forget({ by: 'record', tenantId: principal.tenantId, id });
    return { id, object: 'memory.deleted', deleted: true, receipt };
  }

  private async write(
    principal: Principal,
    owner: OwnerKey,
    label: Label,
    input: MemoryWriteInput,
    replaces: RecordRow | undefined,
  ) {
    const labelId = await this.deps.labels.ensure(label);
    const now = Date.now();
    await this.deps.memory.audit.append({
      type: 'memory.write',
      time: now,
      tenant: owner.tenantId,
      principal: principal.subject,
      ...(principal.onBehalfOf !== undefined ? { onBehalfOf: principal.onBehalfOf } : {}),
      decision: 'allow',
      rule: replaces ? 'memory.update' : 'memory.create',
      ...(replaces ? { objectId: replaces.id } : {}),
      label: canonicalLabel(label),
      detail: { user: owner.userId, ...(owner.agentId ? { agent: owner.agentId } : {}) },
    });
    const outcome = await this.deps.memory.service.write({
      owner,
      kind: input.kind ?? 'fact',
      text: input.text,
      subject: input.subject,
      attribute: input.attribute,
      value: input.value,
      conversationId: replaces?.conversationId ?? null,
      validFrom: input.validFrom ?? now,
      sources: [],
      labelId,
    });
    if (outcome.status === 'quarantined')
      return { id: outcome.id, object: 'memory', status: 'quarantined', reason: outcome.reason };
    if (replaces && outcome.id !== replaces.id)
      await this.deps.store.memory.records.supersede(replaces.id, now, input.validFrom ?? now, outcome.id);
    const scope = await this.deps.labels.scope(principal);
    const row = await this.deps.store.memory.records.byId(scope, outcome.id);
    if (!row) throw new EnclaveError('internal', 'A memory just written could not be read back.');
    return { ...(await this.render(row)), status: outcome.status };
  }

  private async audit(
    principal: Principal,
    type: 'memory.read',
    records: readonly (RecordRow | MemoryRecord)[],
    via: string,
  ): Promise<void> {
    let label: Label | undefined;
    for (const r of records) {
      const l = await this.deps.labels.label(r.labelId);
      label = label ? lub(label, l) : l;
    }
    await this.deps.memory.audit.append({
      type,
      time: Date.now(),
      tenant: principal.tenantId,
      principal: principal.subject,
      ...(principal.onBehalfOf !== undefined ? { onBehalfOf: principal.onBehalfOf } : {}),
      decision: 'allow',
      rule: `memory.${via}`,
      label: canonicalLabel(label ?? this.deps.labels.clearance(principal).label),
      detail: { records: records.map((r) => r.id).slice(0, 200), via },
    });
  }

  private async render(r: RecordRow | MemoryRecord): Promise<Record<string, unknown>> {
    const sec = (ms: number | null) => (ms === null ? null : Math.floor(ms / 1000));
    return {
      id: r.id,
      object: 'memory',
      kind: r.kind,
      text: r.text,
      subject: r.subject,
      attribute: r.attribute,
      value: r.value,
      user: r.owner.userId || null,
      agent: r.owner.agentId || null,
      conversation: r.conversationId,
      source_ids: r.sourceIds,
      label: renderBanner(await this.deps.labels.label(r.labelId)),
      current: r.supersededAt === null,
      superseded_by: r.supersededBy,
      valid_from: sec(r.validFrom),
      valid_to: sec(r.validTo),
      recorded_at: sec(r.recordedAt),
      superseded_at: sec(r.supersededAt),
    };
  }
}

export const isMemoryKind = (k: string): k is MemoryKind => (memoryKinds as readonly string[]).includes(k);
