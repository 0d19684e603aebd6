import type { DataKeyRepo } from '../store/repos/data-key-repo.js';
import type { AuditSink } from './audit-sink.js';
import { createContentCipher, type ContentCipher } from './content-cipher.js';
import { DataKeys } from './data-keys.js';
import type { KeyProvider } from './key-provider.js';
import { keyProviderFor } from './key-provider-from-env.js';
import { shredScope } from './key-lifecycle.js';

export interface EncryptionOptions {
  /** `store.dataKeys`. */
  repo: DataKeyRepo;
  dataDir: string;
  audit: AuditSink;
  /** Defaults to the provider the environment selects (`keyProviderFor`). */
  provider?: KeyProvider;
  env?: NodeJS.ProcessEnv;
}

/** Encryption at rest, assembled once by the composition root. */
export interface Encryption {
  readonly keys: DataKeys;
  readonly cipher: ContentCipher;
  /** Crypto-shreds a scope and writes its deletion receipt (see shredScope). */
  shred(tenant: string, scope: string): Promise<{ keyIds: string[] }>;
}

export function createEncryption(options: EncryptionOptions): Encryption {
  const provider = options.provider ?? keyProviderFor(options.dataDir, options.env ?? process.env);
  const keys = new DataKeys({ repo: options.repo, provider, audit: options.audit });
  return {
    keys,
    cipher: createContentCipher(keys),
    shred: (tenant, scope) => shredScope(keys, tenant, scope),
  };
}
