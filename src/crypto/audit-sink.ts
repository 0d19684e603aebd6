/**
 * What key management needs from the audit log (src/audit implements it): append one entry, durably,
 * or throw. Key changes and deletion receipts go through it; a failed append fails the operation.
 */
export interface AuditSink {
  append(entry: Record<string, unknown>): Promise<unknown>;
}
