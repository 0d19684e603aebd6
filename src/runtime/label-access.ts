import { EnclaveError } from '../errors/index.js';
import type { Principal } from '../identity/principal.js';
import {
  canRead,
  canonicalLabel,
  dominates,
  parseBanner,
  parseCanonicalLabel,
  parsePortion,
  visibleLabelIds,
  type Clearance,
  type Label,
} from '../labels/index.js';
import type { ReadScope } from '../store/read-scope.js';
import type { Store } from '../store/store.js';
import type { AccessAction, DecisionAudit } from './audit-decisions.js';
import type { PendingAudit } from './pending-audit.js';

/** How long a cached catalogue is trusted before re-reading it (labels registered by other processes). */
const CATALOG_TTL_MS = 2_000;

/**
 * The runtime's bridge between labels and the store: a principal's clearance, the ReadScope its queries run
 * under (visible label ids, cached per clearance and dropped whenever a new label is registered), and label
 * ids for writes. Clearance comes only from the authenticated principal, never from a request.
 */
export class LabelAccess {
  private catalog: { id: string; canonical: string }[] | undefined;
  private catalogAt = 0;
  private readonly known = new Map<string, Label>();
  private readonly ids = new Map<string, string>();
  private readonly visible = new Map<string, string[]>();
  private readonly clearances = new Map<string, Clearance>();

  constructor(
    private readonly store: Store,
    /** Where every access decision made here is recorded (fail-closed). */
    readonly decisions: DecisionAudit,
  ) {}

  clearance(principal: Principal): Clearance {
    const key = `${principal.clearance}\u0001${principal.authorizations.join('\u0001')}`;
    let found = this.clearances.get(key);
    if (!found) {
      found = { label: parseStoredLabel(principal.clearance), authorizations: [...principal.authorizations] };
      this.clearances.set(key, found);
    }
    return found;
  }

  /** The label of a request sent without one: the principal's configured default, else its clearance. */
  defaultLabel(principal: Principal): Label {
    return principal.defaultLabel
      ? parseStoredLabel(principal.defaultLabel)
      : this.clearance(principal).label;
  }

  /** The rows `principal` may read: its tenant and the catalogue labels its clearance can read. */
  async scope(principal: Principal): Promise<ReadScope> {
    const catalog = await this.currentCatalog();
    const key = `${principal.clearance}\u0001${principal.authorizations.join('\u0001')}`;
    let ids = this.visible.get(key);
    if (!ids) {
      ids = visibleLabelIds(catalog, this.clearance(principal));
      this.visible.set(key, ids);
    }
    return { tenantId: principal.tenantId, labelIds: ids };
  }

  /**
   * Registers `label` in the catalogue (idempotent) and returns its id; a new id invalidates the caches.
   * Inside a transaction pass its store: SQLite has one connection, so a query beside the transaction would wait on it.
   */
  async ensure(label: Label, store: Store = this.store): Promise<string> {
    const canonical = canonicalLabel(label);
    // Catalogue rows are never deleted, so a label registered once needs no further write.
    const registered = this.ids.get(canonical);
    if (registered !== undefined) return registered;
    const id = await store.labels.ensure(canonical);
    this.ids.set(canonical, id);
    if (!this.known.has(id)) {
      this.known.set(id, parseCanonicalLabel(canonical));
      this.invalidate();
    }
    return id;
  }

  /** The label behind a catalogue id (every stored row's label_id resolves). */
  async label(id: string, store: Store = this.store): Promise<Label> {
    const cached = this.known.get(id);
    if (cached) return cached;
    const entry = await store.labels.byId(id);
    if (!entry) throw new EnclaveError('internal', `Label ${id} is missing from the catalogue.`);
    const label = parseCanonicalLabel(entry.canonical);
    this.known.set(id, label);
    return label;
  }

  /**
   * Reads one labelled object under the principal's scope and records the decision. A miss is a 404 either
   * way; to tell the log whether it was invisible (`mac.no_read_up`, with its label) or absent, the object is
   * looked up again across the tenant's whole catalogue — only on this path, and never shown to the caller.
   */
  async read<T extends { labelId: string }>(
    principal: Principal,
    object: { kind: string; id: string; action?: AccessAction },
    fetch: (scope: ReadScope) => Promise<T | undefined>,
    missing: () => EnclaveError,
    /** Holds the decision for the caller's next commit instead of appending it here (pending-audit.ts). */
    pending?: PendingAudit,
  ): Promise<{ record: T; scope: ReadScope }> {
    const scope = await this.scope(principal);
    const record = await fetch(scope);
    const decision = {
      principal,
      action: object.action ?? 'read',
      kind: object.kind,
      objectId: object.id,
      sessionLabel: this.clearance(principal).label,
    };
    if (record) {
      await this.decisions.access(
        { ...decision, allow: true, rule: 'mac.read', objectLabel: await this.label(record.labelId) },
        pending,
      );
      return { record, scope };
    }
    const hidden = await fetch(await this.tenantScope(principal.tenantId));
    await this.decisions.access(
      {
        ...decision,
        allow: false,
        rule: hidden ? 'mac.no_read_up' : 'not_found',
        objectLabel: hidden ? await this.label(hidden.labelId) : undefined,
      },
      pending,
    );
    throw missing();
  }

  /** No write down, recorded: what goes into `container` must be dominated by its label. */
  async requireWrite(
    principal: Principal,
    container: { kind: string; id: string; labelId: string },
    content: Label,
    /** Holds the decision for the caller's next commit (pending-audit.ts); a refusal must then settle it. */
    pending?: PendingAudit,
  ): Promise<void> {
    const containerLabel = await this.label(container.labelId);
    const allow = dominates(containerLabel, content);
    await this.decisions.access(
      {
        principal,
        action: 'write',
        kind: container.kind,
        objectId: container.id,
        objectLabel: containerLabel,
        sessionLabel: content,
        allow,
        rule: allow ? 'mac.write' : 'mac.no_write_down',
      },
      pending,
    );
    if (!allow) throw noWriteDown();
  }

  /** Refuses (403 label_denied, recorded) a label the principal's clearance does not dominate. */
  async requireReadable(principal: Principal, label: Label, what: string): Promise<void> {
    if (!canRead(this.clearance(principal), label)) {
      await this.decisions.access({
        principal,
        action: 'label',
        kind: 'request',
        objectLabel: label,
        sessionLabel: this.clearance(principal).label,
        allow: false,
        rule: 'mac.label_above_clearance',
        detail: { what },
      });
      throw new EnclaveError(
        'label_denied',
        `${what} is labelled above your clearance; use a label your clearance covers.`,
        {
          param: 'label',
        },
      );
    }
  }

  /** Every label of the tenant's catalogue: for audit probes only, never for answering a caller. */
  private async tenantScope(tenantId: string): Promise<ReadScope> {
    const catalog = await this.currentCatalog();
    return { tenantId, labelIds: catalog.map((entry) => entry.id) };
  }

  invalidate(): void {
    this.catalog = undefined;
    this.visible.clear();
  }

  private async currentCatalog(): Promise<{ id: string; canonical: string }[]> {
    const now = Date.now();
    if (!this.catalog || now - this.catalogAt > CATALOG_TTL_MS) {
      const fresh = await this.store.labels.list();
      if (!this.catalog || fresh.length !== this.catalog.length) this.visible.clear();
      this.catalog = fresh;
      this.catalogAt = now;
    }
    return this.catalog;
  }
}

/** Clearances are stored canonically; keys created by hand may hold a banner, which parses the same way. */
function parseStoredLabel(text: string): Label {
  try {
    return parseCanonicalLabel(text);
  } catch {
    return parseBanner(text);
  }
}

/**
 * A client-supplied label: a banner (`SECRET//NOFORN`), optionally with a need-to-know expression
 * (`SECRET//NOFORN ACCESS=A&(B|C)`, the canonical form of docs/labels.md), or a portion marking (`(S//NF)`).
 */
export function parseClientLabel(text: string): Label {
  const trimmed = text.trim();
  return trimmed.startsWith('(') ? parsePortion(trimmed) : parseCanonicalLabel(trimmed);
}

export const noWriteDown = (): EnclaveError =>
  new EnclaveError(
    'label_denied',
    'This would write data into a conversation labelled lower than the data (no write down); use a conversation labelled at least as high as this request and its context.',
    { param: 'conversation' },
  );
