import { EnclaveError } from '../errors/index.js';
import type { Principal } from '../identity/principal.js';
import {
  canRead,
  canonicalLabel,
  parseBanner,
  parseCanonicalLabel,
  parsePortion,
  visibleLabelIds,
  type Clearance,
  type Label,
} from '../labels/index.js';
import type { ReadScope } from '../store/read-scope.js';
import type { Store } from '../store/store.js';

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

  constructor(private readonly store: Store) {}

  clearance(principal: Principal): Clearance {
    const key = `${principal.clearance}\u0001${principal.authorizations.join('\u0001')}`;
    let found = this.clearances.get(key);
    if (!found) {
      found = { label: parseStoredLabel(principal.clearance), authorizations: [...principal.authorizations] };
      this.clearances.set(key, found);
    }
    return found;
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

  /** Refuses (403 label_denied) a label the principal's clearance does not dominate. */
  requireReadable(principal: Principal, label: Label, what: string): void {
    if (!canRead(this.clearance(principal), label)) {
      throw new EnclaveError(
        'label_denied',
        `${what} is labelled above your clearance; use a label your clearance covers.`,
        {
          param: 'label',
        },
      );
    }
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

/** A client-supplied label: a banner (`SECRET//NOFORN`) or a portion marking (`(S//NF)`). */
export function parseClientLabel(text: string): Label {
  const trimmed = text.trim();
  return trimmed.startsWith('(') ? parsePortion(trimmed) : parseBanner(trimmed);
}
