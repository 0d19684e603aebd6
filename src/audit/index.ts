export { auditContent, auditContentScope, auditContentSealer, openAuditContent } from './audit-content.js';
export type {
  AuditContentDetail,
  AuditContentSealer,
  AuditContentServices,
  AuditContentTarget,
  SealedContentDetail,
} from './audit-content.js';
export { auditEntrySchema, auditEventTypes, canonicalEntry, promptSha256 } from './audit-entry.js';
export type { AuditEntry, AuditEventType } from './audit-entry.js';
export type { AppendReceipt, AuditLog } from './audit-log.js';
export { createAuditProver } from './audit-prover.js';
export type { AuditProver, ConsistencyProofResult, InclusionProofResult } from './audit-prover.js';
export { createFileSink, createHttpSink } from './audit-sink.js';
export type { AuditSink } from './audit-sink.js';
export { canonicalJson } from './canonical-json.js';
export { entryPage } from './entry-page.js';
export type { EntryPage, ExportedEntry } from './entry-page.js';
export type { SignedCheckpoint } from './checkpoint.js';
export { exportLog } from './export-log.js';
export { verifyConsistency, verifyInclusion } from './merkle-verify.js';
export { openAuditLog } from './open-audit-log.js';
export type { AuditServices } from './open-audit-log.js';
export { loadOrCreateSigningKey, loadPublicKey } from './signing-key.js';
export { createStoreAuditLog } from './store-audit-log.js';
export type { VerifyReport } from './tree-verifier.js';
export { verifyExport } from './verify-export.js';
export { verifyLog } from './verify-log.js';
