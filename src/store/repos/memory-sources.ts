import type { Kysely } from 'kysely';
import type { Database } from '../schema.js';
import type { MemorySourceTable } from '../memory-schema.js';
import type { OwnerKey } from './memory-records.js';

export interface SourceRow {
  /** Internal key (memory_sources.id). */
  key: string;
  conversationId: string;
  session: string;
  /** The caller's turn id, what hits report as source ids. */
  turnId: string;
  seq: number;
  speaker: string;
  text: string;
  labelId: string;
  occurredAt: number;
  extractedAt: number | null;
  /** The conversation item the turn is stored as (its id is what the runtime reports as the source). */
  itemId?: string | null | undefined;
}

/**
 * Memory's index of stored turns: which conversation item a turn is (`item_id`), its caller id, session order
 * (for neighbours) and whether extraction has read it. The turn itself lives in the conversation store;
 * `speaker` and `text` are the copy extraction reads, sealed by the sealing store (src/crypto/sealed-memory-repo.ts).
 */
export function sourceQueries(db: Kysely<Database>) {
  const owned = (owner: OwnerKey) =>
    db
      .selectFrom('memory_sources')
      .where('tenant_id', '=', owner.tenantId)
      .where('user_id', '=', owner.userId)
      .where('agent_id', '=', owner.agentId);
  return {
    /** Inserts turns not stored yet (same conversation + turn id = same turn); returns the new ones. */
    async add(owner: OwnerKey, rows: readonly SourceRow[], now: number): Promise<SourceRow[]> {
      const added: SourceRow[] = [];
      for (const r of rows) {
        const result = await db
          .insertInto('memory_sources')
          .values(toRow(owner, r, now))
          .onConflict((oc) =>
            oc.columns(['tenant_id', 'user_id', 'agent_id', 'conversation_id', 'turn_id']).doNothing(),
          )
          .executeTakeFirst();
        if (Number(result.numInsertedOrUpdatedRows ?? 0n) > 0) added.push(r);
      }
      return added;
    },

    async nextSeq(owner: OwnerKey): Promise<number> {
      const row = await owned(owner)
        .select((eb) => eb.fn.max('seq').as('max'))
        .executeTakeFirst();
      return row?.max === null || row?.max === undefined ? 0 : Number(row.max) + 1;
    },

    /** Turns of one session in order within [fromSeq, toSeq] (neighbour context). */
    async window(owner: OwnerKey, conversationId: string, session: string, fromSeq: number, toSeq: number) {
      const rows = await owned(owner)
        .selectAll()
        .where('conversation_id', '=', conversationId)
        .where('session', '=', session)
        .where('seq', '>=', fromSeq)
        .where('seq', '<=', toSeq)
        .orderBy('seq')
        .execute();
      return rows.map(fromRow);
    },

    /** The turns right before and after `s` in its conversation session (neighbour context). */
    async adjacent(owner: OwnerKey, s: SourceRow): Promise<SourceRow[]> {
      const session = owned(owner)
        .selectAll()
        .where('conversation_id', '=', s.conversationId)
        .where('session', '=', s.session);
      const before = await session.where('seq', '<', s.seq).orderBy('seq', 'desc').limit(1).execute();
      const after = await session.where('seq', '>', s.seq).orderBy('seq').limit(1).execute();
      return [...before, ...after].map(fromRow);
    },

    async byTurnIds(
      owner: OwnerKey,
      conversationId: string,
      turnIds: readonly string[],
    ): Promise<SourceRow[]> {
      if (turnIds.length === 0) return [];
      const rows = await owned(owner)
        .selectAll()
        .where('conversation_id', '=', conversationId)
        .where('turn_id', 'in', [...turnIds])
        .execute();
      return rows.map(fromRow);
    },

    /** Turns the extraction job has not read yet, oldest first. */
    async unextracted(owner: OwnerKey, conversationId: string, limit: number): Promise<SourceRow[]> {
      const rows = await owned(owner)
        .selectAll()
        .where('conversation_id', '=', conversationId)
        .where('extracted_at', 'is', null)
        .orderBy('seq')
        .limit(limit)
        .execute();
      return rows.map(fromRow);
    },

    async markExtracted(keys: readonly string[], at: number): Promise<void> {
      if (keys.length)
        await db
          .updateTable('memory_sources')
          .set({ extracted_at: at })
          .where('id', 'in', [...keys])
          .execute();
    },
  };
}

function toRow(owner: OwnerKey, r: SourceRow, now: number): MemorySourceTable {
  return {
    id: r.key,
    tenant_id: owner.tenantId,
    user_id: owner.userId,
    agent_id: owner.agentId,
    conversation_id: r.conversationId,
    session: r.session,
    turn_id: r.turnId,
    seq: r.seq,
    speaker: r.speaker,
    text: r.text,
    label_id: r.labelId,
    occurred_at: r.occurredAt,
    created_at: now,
    extracted_at: r.extractedAt,
    item_id: r.itemId ?? null,
  };
}

function fromRow(row: MemorySourceTable): SourceRow {
  return {
    key: row.id,
    conversationId: row.conversation_id,
    session: row.session,
    turnId: row.turn_id,
    seq: Number(row.seq),
    speaker: row.speaker,
    text: row.text,
    labelId: row.label_id,
    occurredAt: Number(row.occurred_at),
    extractedAt: row.extracted_at === null ? null : Number(row.extracted_at),
    itemId: row.item_id,
  };
}
