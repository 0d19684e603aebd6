export type { AuditSink } from './audit-sink.js';
export { AwsKmsKeyProvider, defaultKmsRingPath, type AwsKmsOptions } from './aws-kms-key-provider.js';
export { blindIndexKey, blindToken, blindTokens, normalizeTerms } from './blind-index.js';
export { createContentCipher, type ContentCipher, type SealContext } from './content-cipher.js';
export { DataKeys, type DataKeysOptions } from './data-keys.js';
export { createEncryption, type Encryption, type EncryptionOptions } from './encryption.js';
export type { KeyProvider, WrapContext, WrappedKey } from './key-provider.js';
export { keyProviderFor } from './key-provider-from-env.js';
export {
  rewrapKeys,
  retireKeys,
  rotateKeys,
  shredScope,
  strandedBelow,
  type RewrapResult,
} from './key-lifecycle.js';
export { defaultKekPath, LocalKeyProvider } from './local-key-provider.js';
export { isSealed } from './sealed-format.js';
export { rewrapSqliteKey, sqliteKeyFor, sqliteKeyPath, sqliteKeyVersion } from './sqlite-key.js';
export { conversationScope, itemScope, responseScope, userScope } from './content-scopes.js';
export { sealContent } from './sealed-store.js';
export { eraseUser, type ErasureReport } from './erase-user.js';
