import type { Kysely } from 'kysely';
import { guarded } from '../db-errors.js';
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
  /** Leaf hashes of indexes [from, to), in index order. */
  leafHashes(from: number, to: number): Promise<string[]>;
  /** Stores a checkpoint; a second one for the same tree size is ignored (the first stays). */
  insertCheckpoint(checkpoint: AuditCheckpointRecord): Promise<void>;
  checkpoints(): Promise<AuditCheckpointRecord[]>;
  latestCheckpoint(): Promise<AuditCheckpointRecord | undefined>;
}

// Rows per INSERT statement: far below SQLite's 32766 and PostgreSQL's 65535 bound parameters.
const insertChunk = 1000;

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

export function auditRepo(db: Kysely<Database>): AuditRepo {
  return {
    async lockHead() {
      const row = await db
        .updateTable('audit_head')
        .set((eb) => ({ tree_size: eb.ref('tree_size') }))
        .where('id', '=', 1)
        .returning(['tree_size', 'frontier'])
        .executeTakeFirstOrThrow();
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
      await db
        .updateTable('audit_head')
        .set({ tree_size: head.treeSize, frontier: head.frontier })
        .where('id', '=', 1)
        .execute();
    },
    async insertEntries(rows) {
      for (let i = 0; i < rows.length; i += insertChunk) {
        const values = rows.slice(i, i + insertChunk).map((r) => ({
          index: r.index,
          leaf_hash: r.leafHash,
          entry: r.entry,
          created_at: r.createdAt,
        }));
        await guarded('audit entry', () => db.insertInto('audit_entries').values(values).execute());
      }
    },
    async entries(from, limit) {
      const rows = await db
        .selectFrom('audit_entries')
        .select(['index', 'leaf_hash', 'entry', 'created_at'])
        .where('index', '>=', from)
        .orderBy('index')
        .limit(limit)
        .execute();
      return rows.map((r) => ({
        index: Number(r.index),
        leafHash: r.leaf_hash,
        entry: r.entry,
        createdAt: Number(r.created_at),
      }));
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
  };
}
