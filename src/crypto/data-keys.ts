import { randomBytes } from 'node:crypto';
import { EnclaveError } from '../errors/index.js';
import type { DataKeyRecord, DataKeyRepo } from '../store/repos/data-key-repo.js';
import type { AuditSink } from './audit-sink.js';
import { DekCache, type CachedKey } from './dek-cache.js';
import type { KeyProvider, WrapContext } from './key-provider.js';

export interface DataKeysOptions {
  repo: DataKeyRepo;
  provider: KeyProvider;
  audit: AuditSink;
  /** Bound of the unwrapped-key cache (entries, and age in ms). */
  cacheSize?: number;
  cacheTtlMs?: number;
}

export interface WritingKey {
  id: string;
  generation: number;
  key: Buffer;
}

const contextOf = (r: Pick<DataKeyRecord, 'tenantId' | 'scope' | 'id'>): WrapContext => ({
  tenant: r.tenantId,
  scope: r.scope,
  keyId: r.id,
});

const validScope = (scope: string): void => {
  if (!/^[A-Za-z0-9:_.@-]{1,200}$/.test(scope)) {
    throw new EnclaveError(
      'invalid_request',
      `Key scope '${scope.slice(0, 40)}' must be 1-200 characters of [A-Za-z0-9:_.@-].`,
    );
  }
};

/**
 * Envelope data keys: one per tenant, shred scope and KEK generation, wrapped by the key provider and
 * stored by the repo; unwrapped keys are cached in memory (bounded). After a rotation the next write
 * of a scope makes a fresh key under the new version; old keys keep opening old data.
 */
export class DataKeys {
  readonly provider: KeyProvider;
  private readonly repo: DataKeyRepo;
  private readonly cache: DekCache;
  /** (tenant, scope, generation) → key id of the writing key, so a seal needs no query when warm. */
  private readonly writing = new Map<string, string>();
  /**
   * Writing keys being looked up or created, by slot: concurrent seals of one scope (a turn seals its response
   * and its items at once) share one lookup and at most one new key instead of racing to make one each. Per
   * instance on purpose: a transaction view never waits for its parent's creation (on SQLite that query would
   * wait for the view's own transaction), and its new key stays its own until `publish`.
   */
  private readonly inFlight = new Map<string, Promise<WritingKey>>();

  /**
   * `parent` is set for a transaction view (`withinTransaction`): it reads through to the parent's
   * memory but keeps what it learns to itself until `publish`, so a key created in a transaction that
   * rolls back is never used by anyone else.
   */
  constructor(
    private readonly options: DataKeysOptions,
    private readonly parent?: DataKeys,
  ) {
    this.repo = options.repo;
    this.provider = options.provider;
    this.cache = new DekCache(options.cacheSize ?? 1024, options.cacheTtlMs ?? 5 * 60_000);
  }

  /**
   * Keys for use inside one database transaction, reading and creating data keys through that
   * transaction's repo (on SQLite a query outside it would wait for it forever). Call `publish` after
   * the commit to share the keys it made or unwrapped; drop the view when the transaction fails.
   */
  withinTransaction(repo: DataKeyRepo): { keys: DataKeys; publish(): void } {
    const view = new DataKeys({ ...this.options, repo }, this);
    return { keys: view, publish: () => view.publishTo(this) };
  }

  private cached(id: string): CachedKey | undefined {
    return this.cache.get(id) ?? this.parent?.cached(id);
  }

  private writingId(slot: string): string | undefined {
    return this.writing.get(slot) ?? this.parent?.writingId(slot);
  }

  private publishTo(target: DataKeys): void {
    for (const [id, value] of this.cache.entries()) target.cache.set(id, value);
    for (const [slot, id] of this.writing) target.writing.set(slot, id);
    this.cache.clear();
    this.writing.clear();
  }

  /** The key new content of this scope is sealed with (created on first use). */
  async forWriting(tenant: string, scope: string): Promise<WritingKey> {
    const generation = await this.provider.currentVersion();
    const slot = `${tenant}\u0000${scope}\u0000${generation}`;
    const knownId = this.writingId(slot);
    const known = knownId === undefined ? undefined : this.cached(knownId);
    if (knownId !== undefined && known) return { id: knownId, generation, key: known.key };
    const running = this.inFlight.get(slot);
    if (running) return running;
    const created = this.lookUpOrCreate(tenant, scope, generation, slot);
    this.inFlight.set(slot, created);
    try {
      return await created;
    } finally {
      this.inFlight.delete(slot);
    }
  }

  private async lookUpOrCreate(
    tenant: string,
    scope: string,
    generation: number,
    slot: string,
  ): Promise<WritingKey> {
    validScope(scope);
    let record = await this.repo.forGeneration(tenant, scope, generation);
    if (!record) {
      const id = 'dk_' + randomBytes(12).toString('hex');
      const made = await this.provider.generateDataKey({ tenant, scope, keyId: id });
      record = await this.repo.insertOrGet({
        id,
        tenantId: tenant,
        scope,
        generation,
        kekVersion: made.kekVersion,
        provider: this.provider.name,
        wrapped: made.wrapped.toString('base64url'),
        createdAt: Date.now(),
        rewrappedAt: null,
      });
      // Another writer may have won the race for this scope; its key is the one to use.
      if (record.id === id) this.remember(record, made.plaintext);
    }
    const key = await this.unwrapRecord(record);
    if (this.writing.size > 4 * (this.options.cacheSize ?? 1024)) this.writing.clear();
    this.writing.set(slot, record.id);
    return { id: record.id, generation, key };
  }

  /** The key with this id, if it belongs to this tenant and scope and is neither shredded nor retired. */
  async forReading(tenant: string, scope: string, keyId: string): Promise<Buffer> {
    const cached = this.cached(keyId);
    if (cached) {
      // Another tenant's key answers exactly like a missing one: no probing across tenants.
      if (cached.tenant !== tenant) throw missingKey(keyId);
      if (cached.scope !== scope) throw wrongScope(keyId);
      return cached.key;
    }
    const record = await this.repo.byId(tenant, keyId);
    if (!record) throw missingKey(keyId);
    if (record.scope !== scope) throw wrongScope(keyId);
    return this.unwrapRecord(record);
  }

  /**
   * A key that stays the same across rotations (the scope's oldest key), for derived keys that must
   * be stable, such as blind-index keys.
   */
  async stableKey(tenant: string, scope: string): Promise<Buffer> {
    const [oldest] = await this.repo.listScope(tenant, scope);
    return oldest ? this.unwrapRecord(oldest) : (await this.forWriting(tenant, scope)).key;
  }

  private async unwrapRecord(record: DataKeyRecord): Promise<Buffer> {
    const cached = this.cached(record.id);
    if (cached) return cached.key;
    if (record.provider !== this.provider.name) {
      throw new EnclaveError(
        'decrypt_failed',
        `Data key ${record.id} was wrapped by the '${record.provider}' key provider, but '${this.provider.name}' is configured.`,
      );
    }
    const key = await this.provider.unwrap(
      { kekVersion: record.kekVersion, wrapped: Buffer.from(record.wrapped, 'base64url') },
      contextOf(record),
    );
    this.remember(record, key);
    return key;
  }

  private remember(record: DataKeyRecord, key: Buffer): void {
    const value: CachedKey = {
      key,
      tenant: record.tenantId,
      scope: record.scope,
      generation: record.generation,
    };
    this.cache.set(record.id, value);
  }

  /** Drops every unwrapped key held in memory (after a retire, or when shutting down). */
  forget(): void {
    this.cache.clear();
    this.writing.clear();
  }

  /** Evicts keys of one scope from memory (after a shred). */
  forgetIds(ids: readonly string[]): void {
    for (const id of ids) this.cache.delete(id);
    for (const [slot, id] of this.writing) if (ids.includes(id)) this.writing.delete(slot);
  }

  /** Internal access for the lifecycle operations (rewrap, shred) in key-lifecycle.ts. */
  get store(): DataKeyRepo {
    return this.repo;
  }

  get auditLog(): AuditSink {
    return this.options.audit;
  }
}

const missingKey = (keyId: string): EnclaveError =>
  new EnclaveError(
    'decrypt_failed',
    `Data key ${keyId} does not exist (it was crypto-shredded, or belongs to another tenant); the content is unreadable.`,
  );

const wrongScope = (keyId: string): EnclaveError =>
  new EnclaveError(
    'decrypt_failed',
    `Data key ${keyId} belongs to another scope than this object; the content was moved.`,
  );
