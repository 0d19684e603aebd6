import type { RawSql } from './raw-content.js';

/**
 * Waits until memory has learned every stored turn: drains the extraction queue until no job is left and
 * no turn is unread (a turn's persist may commit just after its response returns).
 */
export async function settleMemory(
  sql: RawSql,
  drain: () => Promise<unknown>,
  attempts = 100,
): Promise<void> {
  for (let i = 0; i < attempts; i++) {
    await drain();
    const [row] = await sql.rows(
      `SELECT (SELECT COUNT(*) FROM memory_jobs) + (SELECT COUNT(*) FROM memory_sources WHERE extracted_at IS NULL) AS n`,
    );
    if (Number(row?.n) === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('memory extraction did not settle');
}
