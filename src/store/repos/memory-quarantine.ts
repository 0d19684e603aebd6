import type { Kysely } from 'kysely';
import type { Database } from '../schema.js';
import { fromQuarantineRow, type QuarantineRow } from './memory-queue.js';
import type { OwnerKey } from './memory-records.js';
import type { SourceRow } from './memory-sources.js';

/**
 * The reviewer's side of the memory quarantine: list (label ids inside the WHERE clause, like every labelled
 * read), fetch, claim a decision (compare-and-set on `pending`, so two reviewers cannot both decide one
 * entry) and remove. The writer's side (`quarantine`, `quarantined`) is in memory-queue.ts.
 */
export function quarantineReviewQueries(db: Kysely<Database>) {
  return {
    async list(
      tenantId: string,
      options: {
        labelIds: readonly string[];
        status: QuarantineRow['status'];
        limit: number;
        after?: { createdAt: number; id: string } | undefined;
      },
    ): Promise<QuarantineRow[]> {
      if (options.labelIds.length === 0) return [];
      let query = db
        .selectFrom('memory_quarantine')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .where('status', '=', options.status)
        .where('label_id', 'in', [...options.labelIds]);
      const after = options.after;
      if (after)
        query = query.where((eb) =>
          eb.or([
            eb('created_at', '>', after.createdAt),
            eb.and([eb('created_at', '=', after.createdAt), eb('id', '>', after.id)]),
          ]),
        );
      const rows = await query.orderBy('created_at').orderBy('id').limit(options.limit).execute();
      return rows.map(fromQuarantineRow);
    },

    /** One entry of the tenant, when its label is among `labelIds`. */
    async byId(
      tenantId: string,
      id: string,
      labelIds: readonly string[],
    ): Promise<QuarantineRow | undefined> {
      if (labelIds.length === 0) return undefined;
      const row = await db
        .selectFrom('memory_quarantine')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .where('id', '=', id)
        .where('label_id', 'in', [...labelIds])
        .executeTakeFirst();
      return row ? fromQuarantineRow(row) : undefined;
    },

    /** Removes a decided entry (its text leaves the quarantine with it). */
    async remove(tenantId: string, id: string): Promise<boolean> {
      const r = await db
        .deleteFrom('memory_quarantine')
        .where('tenant_id', '=', tenantId)
        .where('id', '=', id)
        .executeTakeFirst();
      return Number(r.numDeletedRows) > 0;
    },

    /**
     * The stored turns an entry cites (by turn id, in any of the owner's conversations), for the released
     * record's provenance: forgetting those turns then takes the record with them. `text` is not read: the
     * released text is the quarantined one.
     */
    async sources(owner: OwnerKey, turnIds: readonly string[]): Promise<SourceRow[]> {
      if (turnIds.length === 0) return [];
      const rows = await db
        .selectFrom('memory_sources')
        .select([
          'id',
          'conversation_id',
          'session',
          'turn_id',
          'seq',
          'speaker',
          'label_id',
          'occurred_at',
          'extracted_at',
          'item_id',
        ])
        .where('tenant_id', '=', owner.tenantId)
        .where('user_id', '=', owner.userId)
        .where('agent_id', '=', owner.agentId)
        .where('turn_id', 'in', [...turnIds])
        .execute();
      return rows.map((r) => ({
        key: r.id,
        conversationId: r.conversation_id,
        session: r.session,
        turnId: r.turn_id,
        seq: Number(r.seq),
        speaker: r.speaker,
        text: '',
        labelId: r.label_id,
        occurredAt: Number(r.occurred_at),
        extractedAt: r.extracted_at === null ? null : Number(r.extracted_at),
        itemId: r.item_id,
      }));
    },
  };
}
