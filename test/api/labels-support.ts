import type { TestServer } from '../support/server.js';

/** Request options that label a request (`Enclave-Classification`). */
export const classified = (label: string) => ({ headers: { 'Enclave-Classification': label } });

/** 200 when the call succeeds, else the HTTP status the client saw. */
export async function statusOf(call: Promise<unknown>): Promise<number> {
  try {
    await call;
    return 200;
  } catch (error) {
    const status = (error as { status?: unknown }).status;
    if (typeof status === 'number') return status;
    throw error;
  }
}

export interface LoggedEntry {
  type: string;
  tenant: string;
  principal: string;
  onBehalfOf?: string;
  decision?: string;
  rule?: string;
  objectId?: string;
  objectLabel?: string;
  sessionLabel?: string;
  endpoint?: string;
  label: string;
  detail?: Record<string, unknown>;
}

/** Every entry of the server's audit log, parsed. */
export async function auditEntries(server: TestServer): Promise<LoggedEntry[]> {
  const head = await server.services.store.audit.head();
  const rows = await server.services.store.audit.entries(0, head.treeSize);
  return rows.map((r) => JSON.parse(r.entry) as LoggedEntry);
}
