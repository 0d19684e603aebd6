import { createHmac } from 'node:crypto';
import { blindIndexKey, blindToken } from './blind-index.js';
import type { DataKeys } from './data-keys.js';

/**
 * Keyed blind-index tokens for long-term memory: the BM25 postings (`memory_terms.term`) and the equality
 * lookups of consolidation (`fact_key`, `text_key`) hold HMACs under the tenant's stable `index` key, on
 * both engines. The analyzer's stemmed terms map one-to-one onto tokens (16-byte HMACs: collisions are
 * negligible), so BM25 over tokens ranks exactly as over terms. Three derived keys keep the three uses
 * apart: a term token cannot be matched against a fact or text key.
 */
export interface MemoryBlindIndex {
  /** The analyzer's weighted terms with each term replaced by its token. */
  terms(tenant: string, terms: ReadonlyMap<string, number>): Promise<Map<string, number>>;
  factKey(tenant: string, subject: string | null, attribute: string | null): Promise<string | null>;
  textKey(tenant: string, kind: string, text: string): Promise<string>;
  /** The same index reading keys through a transaction's view (nothing it derives outlives the view). */
  within(keys: DataKeys): MemoryBlindIndex;
}

interface TenantKeys {
  at: number;
  term: Buffer;
  fact: Buffer;
  text: Buffer;
}

/** Derived keys are cached like unwrapped data keys (5 minutes, bounded): a search must not query the key table. */
const TTL_MS = 5 * 60_000;
const MAX_TENANTS = 1024;

export function memoryBlindIndex(keys: DataKeys, parent?: Map<string, TenantKeys>): MemoryBlindIndex {
  // A transaction view derives into its own map: a key created there is shared only if the caller commits
  // (the parent's next derivation reads the committed row).
  const cache = new Map<string, TenantKeys>();
  const keysOf = async (tenant: string): Promise<TenantKeys> => {
    const hit = cache.get(tenant) ?? parent?.get(tenant);
    if (hit && Date.now() - hit.at < TTL_MS) return hit;
    const base = await keys.stableKey(tenant, 'index');
    const derived = {
      at: Date.now(),
      term: blindIndexKey(base, 'memory.terms'),
      fact: blindIndexKey(base, 'memory.facts'),
      text: blindIndexKey(base, 'memory.text'),
    };
    if (cache.size >= MAX_TENANTS) cache.clear();
    cache.set(tenant, derived);
    return derived;
  };
  const hmac = (key: Buffer, parts: readonly string[]) =>
    createHmac('sha256', key)
      .update(JSON.stringify(parts), 'utf8')
      .digest()
      .subarray(0, 16)
      .toString('base64url');
  return {
    async terms(tenant, terms) {
      const { term: key } = await keysOf(tenant);
      const out = new Map<string, number>();
      for (const [term, weight] of terms) {
        const token = blindToken(key, term);
        out.set(token, (out.get(token) ?? 0) + weight);
      }
      return out;
    },
    async factKey(tenant, subject, attribute) {
      if (subject === null || attribute === null) return null;
      return hmac((await keysOf(tenant)).fact, [subject, attribute]);
    },
    async textKey(tenant, kind, text) {
      return hmac((await keysOf(tenant)).text, [kind, text]);
    },
    within: (view) => memoryBlindIndex(view, parent ?? cache),
  };
}
