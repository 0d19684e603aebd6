import { auditEntrySchema } from '../../src/audit/audit-entry.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AuditSink } from '../../src/crypto/audit-sink.js';
import { createContentCipher, type ContentCipher } from '../../src/crypto/content-cipher.js';
import { DataKeys } from '../../src/crypto/data-keys.js';
import type { KeyProvider } from '../../src/crypto/key-provider.js';
import { LocalKeyProvider, defaultKekPath } from '../../src/crypto/local-key-provider.js';
import { openStore } from '../../src/store/open-store.js';
import type { Store } from '../../src/store/store.js';

/** An audit sink that keeps entries in memory, and can be told to fail (to test fail-closed paths). */
export class MemoryAudit implements AuditSink {
  readonly entries: Record<string, unknown>[] = [];
  failing = false;
  async append(entry: Record<string, unknown>): Promise<unknown> {
    if (this.failing) throw new Error('audit store down');
    // Entries must be acceptable to the real audit log, so the fixture validates them with its schema.
    auditEntrySchema.parse(entry);
    const { detail, ...rest } = entry as { detail?: Record<string, unknown> };
    this.entries.push(structuredClone({ ...rest, ...detail }));
    return this.entries.length - 1;
  }
}

export interface CryptoFixture {
  dataDir: string;
  store: Store;
  provider: KeyProvider;
  audit: MemoryAudit;
  keys: DataKeys;
  cipher: ContentCipher;
  /** A second DataKeys over the same store and key file (another process), with a cold cache. */
  fresh(): { keys: DataKeys; cipher: ContentCipher };
  close(): Promise<void>;
}

/** A real SQLite store in a temp dir with a local key file: the encryption stack as the server runs it. */
export async function cryptoFixture(): Promise<CryptoFixture> {
  const dataDir = mkdtempSync(join(tmpdir(), 'enclave-crypto-'));
  const store = await openStore({ dataDir });
  const provider = new LocalKeyProvider(defaultKekPath(dataDir));
  const audit = new MemoryAudit();
  const make = () => {
    const keys = new DataKeys({
      repo: store.dataKeys,
      provider: new LocalKeyProvider(defaultKekPath(dataDir)),
      audit,
    });
    return { keys, cipher: createContentCipher(keys) };
  };
  const keys = new DataKeys({ repo: store.dataKeys, provider, audit });
  return {
    dataDir,
    store,
    provider,
    audit,
    keys,
    cipher: createContentCipher(keys),
    fresh: make,
    async close() {
      await store.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
