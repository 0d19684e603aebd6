import type { AuditRepo } from '../store/repos/audit-repo.js';

/** One exported entry, the shape of an export line (`enclave audit export`), with the entry parsed. */
export interface ExportedEntry {
  index: number;
  leafHash: string;
  entry: Record<string, unknown>;
}

export interface EntryPage {
  data: ExportedEntry[];
  /** Pass as `after` for the next page; entries up to it were looked at (some may have been skipped). */
  nextAfter: number;
  hasMore: boolean;
  /** The tree size when the page was read. */
  treeSize: number;
}

export interface EntryPageRequest {
  tenant: string;
  /** Entries with a higher index are returned; -1 starts at the beginning. */
  after: number;
  limit: number;
  /** May the caller read an entry with this label? (The API answers it from src/labels; audit knows no policy.) */
  canRead: (label: string) => boolean;
}

// Index range examined per page: a tenant with few entries among many others still gets an answer in bounded
// time, with a cursor to go on from.
const scanWindow = 20_000;

/**
 * One page of the auditor export: the caller's tenant's entries after `after` whose label the caller may read.
 * The tenant is a WHERE clause; the label lives inside the entry's JSON, so it is checked here, and the cursor
 * still advances over what was skipped, so paging terminates and never repeats an entry.
 */
export async function entryPage(repo: AuditRepo, request: EntryPageRequest): Promise<EntryPage> {
  const { treeSize } = await repo.head();
  const from = request.after + 1;
  const to = Math.min(treeSize, from + scanWindow);
  const rows = from < to ? await repo.tenantEntries(request.tenant, from, to, request.limit) : [];
  const full = rows.length === request.limit;
  const nextAfter = full ? (rows[rows.length - 1]?.index ?? to - 1) : Math.max(request.after, to - 1);
  const data: ExportedEntry[] = [];
  for (const row of rows) {
    let entry: Record<string, unknown>;
    try {
      entry = JSON.parse(row.entry) as Record<string, unknown>;
    } catch {
      continue; // a row that is not JSON was tampered with; `enclave audit verify` names it, the export skips it
    }
    if (typeof entry.label === 'string' && request.canRead(entry.label)) {
      data.push({ index: row.index, leafHash: row.leafHash, entry });
    }
  }
  return { data, nextAfter, hasMore: nextAfter + 1 < treeSize, treeSize };
}
