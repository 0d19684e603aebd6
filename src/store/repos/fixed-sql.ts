import { CompiledQuery, type Kysely, type QueryResult } from 'kysely';
import type { Dialect } from '../migrations/migration.js';
import type { Database } from '../schema.js';

/**
 * SQL texts of the hot fixed-shape statements of a stored turn (one per shape, made once per dialect), run with
 * their parameters only. Building a query through Kysely's builder (operation nodes, freezing, compiling) cost
 * more per statement than SQLite's own work; the texts here are the ones the builder wrote, so statement caches
 * and behaviour stay as they were. Identifiers are double-quoted on both engines; placeholders are `?` on SQLite
 * and `$1, $2, …` on PostgreSQL. Only constant identifiers ever go into a text: values are always parameters.
 */
export class SqlTexts {
  private readonly texts = new Map<string, string>();

  /** `limit` bounds the distinct shapes kept (`in (…)` lengths, row counts). */
  constructor(private readonly limit = 64) {}

  /** The text for `shape` on `dialect`, written by `make` with `?` placeholders. */
  get(dialect: Dialect, shape: string | number, make: () => string): string {
    const key = `${dialect}:${shape}`;
    let text = this.texts.get(key);
    if (text === undefined) {
      text = numbered(dialect, make());
      if (this.texts.size >= this.limit) this.texts.clear();
      this.texts.set(key, text);
    }
    return text;
  }
}

/** PostgreSQL numbers its placeholders; texts here hold no `?` but placeholders (no literals, no JSON operators). */
function numbered(dialect: Dialect, text: string): string {
  if (dialect === 'sqlite') return text;
  let n = 0;
  return text.replace(/\?/g, () => `$${++n}`);
}

/** `?, ?, …` for an `in (…)` list or a row of values. */
export const slots = (n: number): string => Array.from({ length: n }, () => '?').join(', ');

const quoted = (names: readonly string[]): string => names.map((n) => `"${n}"`).join(', ');

/** `insert into "table" ("a", "b") values (?, ?), (?, ?)` for `rows` rows, as the builder writes it. */
export function insertText(table: string, columns: readonly string[], rows = 1, suffix = ''): string {
  const row = `(${slots(columns.length)})`;
  const values = Array.from({ length: rows }, () => row).join(', ');
  return `insert into "${table}" (${quoted(columns)}) values ${values}${suffix}`;
}

/** Runs a text made by SqlTexts with its parameters. */
export function runText<Row>(
  db: Kysely<Database>,
  text: string,
  parameters: readonly unknown[],
): Promise<QueryResult<Row>> {
  return db.executeQuery<Row>(CompiledQuery.raw(text, parameters as unknown[]));
}
