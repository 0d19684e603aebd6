import type { AuditRepo } from '../store/repos/audit-repo.js';

/**
 * One export line, `{"entry":…,"index":N,"leafHash":"…"}`: canonical JSON (keys sorted), built by concatenation
 * because `entry` is already canonical text.
 */
export const exportLine = (index: number, leafHash: string, entry: string): string =>
  `{"entry":${entry},"index":${index},"leafHash":${JSON.stringify(leafHash)}}`;

/** Rows read per query while streaming the log. */
export const pageSize = 10_000;

/** Streams every stored entry as export lines in index order (JSONL without the newlines). */
export async function* exportLog(repo: AuditRepo): AsyncGenerator<string> {
  let from = 0;
  for (;;) {
    const rows = await repo.entries(from, pageSize);
    for (const row of rows) yield exportLine(row.index, row.leafHash, row.entry);
    const last = rows[rows.length - 1];
    if (rows.length < pageSize || last === undefined) return;
    from = last.index + 1;
  }
}
