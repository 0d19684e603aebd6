import { CompiledQuery, type Kysely } from 'kysely';
import { guarded } from '../db-errors.js';
import type { Dialect } from '../migrations/migration.js';
import type { Database } from '../schema.js';

export interface AuditEntryRow {
  index: number;
  leafHash: string;
  /** Canonical JSON of the entry. */
  entry: string;
  createdAt: number;
}

/** The tree head: size and the serialized Merkle frontier (src/audit/merkle-frontier.ts). */
export interface AuditHead {
  treeSize: number;
  frontier: string;
}

export interface AuditCheckpointRecord {
  treeSize: number;
  rootHash: string;
  time: number;
  keyId: string;
  signature: string;
}

/** Storage of the append-only audit log. The store knows nothing of hashing; src/audit does. */
export interface AuditRepo {
  /**
   * Locks the head row until the transaction ends and reads it. Call it first in its transaction: it is a
   * write, so SQLite takes its write lock before any read snapshot (BEGIN IMMEDIATE semantics) and PostgreSQL
   * holds the row lock, which serializes appenders across processes.
   */
  lockHead(): Promise<AuditHead>;
  head(): Promise<AuditHead>;
  setHead(head: AuditHead): Promise<void>;
  insertEntries(rows: readonly AuditEntryRow[]): Promise<void>;
  /** Up to `limit` entries with index >= `from`, in index order. */
  entries(from: number, limit: number): Promise<AuditEntryRow[]>;
  /**
   * Up to `limit` entries of `tenant` with `from` <= index < `to`, in index order. The tenant is read from the
   * entry's JSON inside the query (the auditor API's tenant scope is a WHERE clause); the index range keeps
   * the scan bounded however rare the tenant's entries are.
   */
  tenantEntries(tenant: string, from: number, to: number, limit: number): Promise<AuditEntryRow[]>;
  /** Leaf hashes of indexes [from, to), in index order. */
  leafHashes(from: number, to: number): Promise<string[]>;
  /** Stores a checkpoint; a second one for the same tree size is ignored (the first stays). */
  insertCheckpoint(checkpoint: AuditCheckpointRecord): Promise<void>;
  checkpoints(): Promise<AuditCheckpointRecord[]>;
  latestCheckpoint(): Promise<AuditCheckpointRecord | undefined>;
  /**
   * The WAL file to fsync after a commit for it to survive a power cut: set only for a SQLite database file in
   * WAL mode whose commits do not fsync by themselves (synchronous below FULL). Undefined for PostgreSQL,
   * in-memory databases and connections already at FULL, where a durable transaction is the way.
   */
  walFile(): Promise<string | undefined>;
  /**
   * Inside a transaction: makes its commit durable where that is decided per transaction — PostgreSQL
   * (`synchronous_commit = on`, whatever the server's default). SQLite decides it per connection (its level,
   * or the WAL fsync the log runs after a commit, see walFile): nothing to do.
   */
  durableCommit(): Promise<void>;
}

// Rows per INSERT statement: far below SQLite's 32766 and PostgreSQL's 65535 bound parameters.
const insertChunk = 1000;

/**
 * The multi-row INSERT of `rows` rows as SQL text, cached per row count. Appends are the audit's hot path and
 * building the query through the query builder cost more than SQLite's own insert work, so the text is made
 * once and only the parameters change.
 */
function insertSql(dialect: Dialect, rows: number, cache: Map<number, string>): string {
  let text = cache.get(rows);
  if (text === undefined) {
    let n = 0;
    const slot = () => (dialect === 'postgres' ? `$${++n}` : '?');
    const values = Array.from({ length: rows }, () => `(${slot()}, ${slot()}, ${slot()}, ${slot()})`);
    text = `insert into audit_entries ("index", leaf_hash, entry, created_at) values ${values.join(', ')}`;
    if (cache.size > 64) cache.clear();
    cache.set(rows, text);
  }
  return text;
}

const checkpointColumns = ['tree_size', 'root_hash', 'time', 'key_id', 'signature'] as const;
const toCheckpoint = (r: {
  tree_size: number;
  root_hash: string;
  time: number;
  key_id: string;
  signature: string;
}) => ({
  treeSize: Number(r.tree_size),
  rootHash: r.root_hash,
  time: Number(r.time),
  keyId: r.key_id,
  signature: r.signature,
});

// The head is read and written once per batch; fixed texts skip the query builder as the INSERT does. The no-op
// UPDATE … RETURNING is the lock (see lockHead).
const lockHeadSql = CompiledQuery.raw(
  'update audit_head set tree_size = tree_size where id = 1 returning tree_size, frontier',
);

const selectEntries =
  'select "index", leaf_hash as "leafHash", entry, created_at as "createdAt" from audit_entries';

export function auditRepo(db: Kysely<Database>, dialect: Dialect): AuditRepo {
  const insertTexts = new Map<number, string>();
  const entriesSql =
    selectEntries +
    (dialect === 'postgres'
      ? ' where "index" >= $1 order by "index" limit $2'
      : ' where "index" >= ? order by "index" limit ?');
  const tenantEntriesSql =
    dialect === 'postgres'
      ? `${selectEntries} where "index" >= $1 and "index" < $2 and (entry::jsonb ->> 'tenant') = $3 order by "index" limit $4`
      : `${selectEntries} where "index" >= ? and "index" < ? and json_extract(entry, '$.tenant') = ? order by "index" limit ?`;
  const setHeadSql =
    dialect === 'postgres'
      ? 'update audit_head set tree_size = $1, frontier = $2 where id = 1'
      : 'update audit_head set tree_size = ?, frontier = ? where id = 1';
  return {
    async lockHead() {
      const { rows } = await db.executeQuery<{ tree_size: number | string; frontier: string }>(lockHeadSql);
      const row = rows[0];
      if (!row) throw new Error('the audit_head row is missing');
      return { treeSize: Number(row.tree_size), frontier: row.frontier };
    },
    async head() {
      const row = await db
        .selectFrom('audit_head')
        .select(['tree_size', 'frontier'])
        .where('id', '=', 1)
        .executeTakeFirstOrThrow();
      return { treeSize: Number(row.tree_size), frontier: row.frontier };
    },
    async setHead(head) {
      await db.executeQuery(CompiledQuery.raw(setHeadSql, [head.treeSize, head.frontier]));
    },
    async insertEntries(rows) {
      for (let i = 0; i < rows.length; i += insertChunk) {
        const chunk = rows.slice(i, i + insertChunk);
        const parameters: unknown[] = [];
        for (const r of chunk) parameters.push(r.index, r.leafHash, r.entry, r.createdAt);
        const query = CompiledQuery.raw(insertSql(dialect, chunk.length, insertTexts), parameters);
        await guarded('audit entry', () => db.executeQuery(query));
      }
    },
    async entries(from, limit) {
      // Verification and export stream the whole log through here: columns come out under their row names, so
      // SQLite's rows are used as they are; PostgreSQL returns bigint as text and needs the numbers converted.
      const { rows } = await db.executeQuery<AuditEntryRow>(CompiledQuery.raw(entriesSql, [from, limit]));
      if (dialect === 'sqlite') return rows;
      return rows.map((r) => ({ ...r, index: Number(r.index), createdAt: Number(r.createdAt) }));
    },
    async tenantEntries(tenant, from, to, limit) {
      const { rows } = await db.executeQuery<AuditEntryRow>(
        CompiledQuery.raw(tenantEntriesSql, [from, to, tenant, limit]),
      );
      return dialect === 'sqlite'
        ? rows
        : rows.map((r) => ({ ...r, index: Number(r.index), createdAt: Number(r.createdAt) }));
    },
    async leafHashes(from, to) {
      const rows = await db
        .selectFrom('audit_entries')
        .select('leaf_hash')
        .where('index', '>=', from)
        .where('index', '<', to)
        .orderBy('index')
        .execute();
      return rows.map((r) => r.leaf_hash);
    },
    async insertCheckpoint(c) {
      await db
        .insertInto('audit_checkpoints')
        .values({
          tree_size: c.treeSize,
          root_hash: c.rootHash,
          time: c.time,
          key_id: c.keyId,
          signature: c.signature,
        })
        .onConflict((oc) => oc.column('tree_size').doNothing())
        .execute();
    },
    async checkpoints() {
      const rows = await db
        .selectFrom('audit_checkpoints')
        .select(checkpointColumns)
        .orderBy('tree_size')
        .execute();
      return rows.map(toCheckpoint);
    },
    async latestCheckpoint() {
      const row = await db
        .selectFrom('audit_checkpoints')
        .select(checkpointColumns)
        .orderBy('tree_size', 'desc')
        .limit(1)
        .executeTakeFirst();
      return row && toCheckpoint(row);
    },
    async walFile() {
      if (dialect !== 'sqlite') return undefined;
      const mode = await db.executeQuery<{ journal_mode: string }>(CompiledQuery.raw('pragma journal_mode'));
      const level = await db.executeQuery<{ synchronous: number }>(CompiledQuery.raw('pragma synchronous'));
      const main = await db.executeQuery<{ file: string }>(
        CompiledQuery.raw("select file from pragma_database_list where name = 'main'"),
      );
      const file = main.rows[0]?.file;
      if (mode.rows[0]?.journal_mode !== 'wal' || (level.rows[0]?.synchronous ?? 2) >= 2 || !file)
        return undefined;
      return `${file}-wal`;
    },
    async durableCommit() {
      if (dialect === 'postgres')
        await db.executeQuery(CompiledQuery.raw('set local synchronous_commit = on'));
    },
  };
}
