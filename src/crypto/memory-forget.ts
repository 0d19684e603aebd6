import type { ForgetReceipt, ForgetTarget, MemoryRepo } from '../store/repos/memory-repo.js';
import type { AuditSink } from './audit-sink.js';

/** The name of a forget in its receipt: `conversation conv_1`, `user key:key_2`, `retention`. */
export function forgetTargetName(target: ForgetTarget | 'retention'): string {
  if (target === 'retention') return 'retention';
  const { tenantId: _tenant, by, ...rest } = target;
  return `${by} ${Object.values(rest).join(' ')}`.slice(0, 300);
}

/**
 * The audit entry of a memory deletion (also written by the memory service's `onForget`): what was
 * forgotten, by which target, and how many rows of each kind went. No memory text.
 */
export function memoryDeletionReceipt(tenant: string, what: string, receipt: ForgetReceipt) {
  return {
    type: 'deletion.receipt' as const,
    time: Date.now(),
    tenant,
    principal: 'system',
    rule: 'memory.forget',
    objectId: what.slice(0, 300),
    label: 'UNCLASSIFIED',
    detail: { scope: 'memory', target: what.slice(0, 300), ...receipt },
  };
}

/**
 * Forgets what memory derived from a deleted conversation or an erased user (records, turns, terms,
 * vectors, links, jobs, quarantine) and records the receipt. A forget that found nothing (memory off, or
 * already forgotten) writes no receipt unless `always`: the conversation's own shred receipt covers it.
 */
export async function forgetMemory(
  memory: MemoryRepo,
  audit: AuditSink,
  target: ForgetTarget,
  always = false,
): Promise<ForgetReceipt> {
  const receipt = await memory.lifecycle.forget(target);
  if (always || receipt.records + receipt.sources + receipt.quarantined > 0)
    await audit.append(memoryDeletionReceipt(target.tenantId, forgetTargetName(target), receipt));
  return receipt;
}
