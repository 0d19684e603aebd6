import type { KeyObject } from 'node:crypto';
import type { AuditRepo } from '../store/repos/audit-repo.js';
import { pageSize } from './export-log.js';
import { TreeVerifier, type VerifyReport } from './tree-verifier.js';
import { frontierOf } from './store-audit-log.js';

/**
 * Live verification: recomputes the whole tree from the stored entries in index order, checks every stored leaf
 * hash, every checkpoint (root and Ed25519 signature under `publicKeys`) and the stored head.
 */
export async function verifyLog(repo: AuditRepo, publicKeys: readonly KeyObject[]): Promise<VerifyReport> {
  const [checkpoints, head] = await Promise.all([repo.checkpoints(), repo.head()]);
  const verifier = new TreeVerifier(checkpoints, publicKeys);
  let from = 0;
  scan: while (!verifier.failed) {
    const rows = await repo.entries(from, pageSize);
    for (const row of rows) if (!verifier.add(row.index, row.leafHash, row.entry)) break scan;
    const last = rows[rows.length - 1];
    if (rows.length < pageSize || last === undefined) break;
    from = last.index + 1;
  }
  const report = verifier.finish(head.treeSize);
  if (report.ok) {
    let headRoot: string;
    try {
      headRoot = frontierOf(head).root().toString('hex');
    } catch {
      headRoot = '';
    }
    if (headRoot !== verifier.root())
      return { ...report, ok: false, problem: 'the stored tree head (frontier) does not match the entries' };
  }
  return report;
}
