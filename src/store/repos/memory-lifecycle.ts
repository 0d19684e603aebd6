import type { Kysely } from 'kysely';
import type { Database } from '../schema.js';

/** What a forget removed: the receipt the caller writes to the audit log. */
export interface ForgetReceipt {
  records: number;
  sources: number;
  quarantined: number;
}

export type ForgetTarget =
  | { by: 'record'; tenantId: string; id: string }
  | { by: 'user'; tenantId: string; userId: string }
  | { by: 'agent'; tenantId: string; agentId: string }
  | { by: 'conversation'; tenantId: string; conversationId: string }
  /** One conversation item (`DELETE /v1/conversations/{id}/items/{item_id}`): the turn it was for memory. */
  | { by: 'item'; tenantId: string; conversationId: string; itemId: string };

/** Surviving turns next to forgotten ones: their episodes hold the forgotten words as neighbour context. */
export interface NeighbourTurns {
  owner: { tenantId: string; userId: string; agentId: string };
  conversationId: string;
  turnIds: string[];
}

/**
 * Forgetting and retention. A deleted turn takes every record derived from it (facts, summaries) with
 * it; terms, provenance links and vectors are deleted explicitly (and by FK cascade as a second line).
 * (About 450 lines: every forget target and the retention sweep share the same cascade helpers, so they
 * stay in one closure.)
 */
export function lifecycleQueries(db: Kysely<Database>) {
  async function derivedFrom(tenantId: string, sourceKeys: readonly string[]): Promise<string[]> {
    const ids: string[] = [];
    for (const chunk of chunks(sourceKeys)) {
      const rows = await db
        .selectFrom('memory_record_sources')
        .select('record_id')
        .distinct()
        .where('tenant_id', '=', tenantId)
        .where('source_id', 'in', chunk)
        .execute();
      ids.push(...rows.map((r) => r.record_id));
    }
    return ids;
  }

  async function deleteRecords(ids: readonly string[]): Promise<number> {
    let n = 0;
    for (const chunk of chunks([...new Set(ids)])) {
      await db.deleteFrom('memory_terms').where('record_id', 'in', chunk).execute();
      await db.deleteFrom('memory_record_sources').where('record_id', 'in', chunk).execute();
      const r = await db.deleteFrom('memory_records').where('id', 'in', chunk).executeTakeFirst();
      n += Number(r.numDeletedRows);
    }
    return n;
  }

  async function deleteSources(tenantId: string, keys: readonly string[]): Promise<number> {
    let n = 0;
    for (const chunk of chunks(keys)) {
      await db.deleteFrom('memory_record_sources').where('source_id', 'in', chunk).execute();
      const r = await db
        .deleteFrom('memory_sources')
        .where('tenant_id', '=', tenantId)
        .where('id', 'in', chunk)
        .executeTakeFirst();
      n += Number(r.numDeletedRows);
    }
    return n;
  }

  /**
   * Quarantine rows of these turns' owners that cite any of the turns. Runtime turn ids are item ids (unique);
   * an import's caller ids may repeat across its conversations, and then a flagged write citing the same id
   * elsewhere goes too: the cautious side of a forget.
   */
  async function quarantinedFrom(
    tenantId: string,
    turns: readonly { turn_id: string; user_id: string; agent_id: string }[],
  ): Promise<string[]> {
    const ids = new Set(turns.map((t) => t.turn_id));
    const owners = new Map(turns.map((t) => [`${t.user_id}\u0000${t.agent_id}`, t]));
    const out: string[] = [];
    for (const owner of owners.values()) {
      const rows = await db
        .selectFrom('memory_quarantine')
        .select(['id', 'source_ids'])
        .where('tenant_id', '=', tenantId)
        .where('user_id', '=', owner.user_id)
        .where('agent_id', '=', owner.agent_id)
        .execute();
      for (const row of rows)
        if ((JSON.parse(row.source_ids) as string[]).some((id) => ids.has(id))) out.push(row.id);
    }
    return out;
  }

  /** Deletes the given turns, everything derived from them, and the extra records named. */
  async function cascade(
    tenantId: string,
    sourceKeys: string[],
    extraRecords: string[],
  ): Promise<ForgetReceipt> {
    const records = await deleteRecords([...(await derivedFrom(tenantId, sourceKeys)), ...extraRecords]);
    const sources = await deleteSources(tenantId, sourceKeys);
    return { records, sources, quarantined: 0 };
  }

  /** The memory turns stored as one conversation item (one per owner that learned from it). */
  const itemTurns = (target: Extract<ForgetTarget, { by: 'item' }>) =>
    db
      .selectFrom('memory_sources')
      .select(['id', 'turn_id', 'user_id', 'agent_id', 'conversation_id', 'session', 'seq'])
      .where('tenant_id', '=', target.tenantId)
      .where('conversation_id', '=', target.conversationId)
      .where('item_id', '=', target.itemId)
      .execute();

  /** The turns an episode record is (its provenance), for the neighbours of a forgotten episode. */
  async function episodeTurns(tenantId: string, id: string) {
    const rec = await db
      .selectFrom('memory_records')
      .select('kind')
      .where('tenant_id', '=', tenantId)
      .where('id', '=', id)
      .executeTakeFirst();
    if (rec?.kind !== 'episode') return [];
    return db
      .selectFrom('memory_sources as s')
      .innerJoin('memory_record_sources as l', 'l.source_id', 's.id')
      .select(['s.id', 's.turn_id', 's.user_id', 's.agent_id', 's.conversation_id', 's.session', 's.seq'])
      .where('l.record_id', '=', id)
      .execute();
  }

  /**
   * Forgets single turns (not their whole conversation): each turn's episode and every record derived only
   * from forgotten turns go, and so do summaries citing them (a summary's text restates its turns). A
   * record another surviving turn also established (a merged duplicate: same fact or same text) stays,
   * with the forgotten turns taken out of its provenance; its content is what the surviving turn says too.
   * Quarantined writes citing the turns go.
   */
  async function forgetTurns(
    tenantId: string,
    turns: readonly { id: string; turn_id: string; user_id: string; agent_id: string }[],
  ): Promise<ForgetReceipt> {
    if (turns.length === 0) return { records: 0, sources: 0, quarantined: 0 };
    const keys = new Set(turns.map((t) => t.id));
    const flagged = await quarantinedFrom(tenantId, turns);
    const derived = await derivedFrom(tenantId, [...keys]);
    const links = derived.length
      ? await db
          .selectFrom('memory_record_sources as l')
          .innerJoin('memory_records as r', 'r.id', 'l.record_id')
          .innerJoin('memory_sources as s', 's.id', 'l.source_id')
          .select(['l.record_id', 'l.source_id', 'r.kind', 'r.source_ids', 's.turn_id'])
          .where('l.record_id', 'in', derived)
          .execute()
      : [];
    const remove: string[] = [];
    const keep = new Map<string, { sourceIds: string; surviving: Set<string> }>();
    for (const id of derived) {
      const own = links.filter((l) => l.record_id === id);
      const surviving = own.filter((l) => !keys.has(l.source_id));
      if (surviving.length === 0 || own[0]?.kind === 'summary' || own[0]?.kind === 'episode') remove.push(id);
      else
        keep.set(id, {
          sourceIds: own[0]?.source_ids ?? '[]',
          surviving: new Set(surviving.map((l) => l.turn_id)),
        });
    }
    for (const [id, k] of keep) {
      await db
        .deleteFrom('memory_record_sources')
        .where('record_id', '=', id)
        .where('source_id', 'in', [...keys])
        .execute();
      const ids = (JSON.parse(k.sourceIds) as string[]).filter((t) => k.surviving.has(t));
      await db
        .updateTable('memory_records')
        .set({ source_ids: JSON.stringify(ids) })
        .where('id', '=', id)
        .execute();
    }
    const records = await deleteRecords(remove);
    const sources = await deleteSources(tenantId, [...keys]);
    let quarantined = 0;
    for (const chunk of chunks(flagged)) {
      const q = await db
        .deleteFrom('memory_quarantine')
        .where('tenant_id', '=', tenantId)
        .where('id', 'in', chunk)
        .executeTakeFirst();
      quarantined += Number(q.numDeletedRows);
    }
    return { records, sources, quarantined };
  }

  async function retention(tenantId: string): Promise<number | null> {
    const row = await db
      .selectFrom('memory_retention')
      .select('max_age_ms')
      .where('tenant_id', '=', tenantId)
      .executeTakeFirst();
    return row ? Number(row.max_age_ms) : null;
  }

  /** Turns said and records made before this go in a sweep at `now`; null = the tenant has no policy. */
  async function retentionCutoff(tenantId: string, now: number): Promise<number | null> {
    const maxAge = await retention(tenantId);
    return maxAge === null ? null : now - maxAge;
  }

  return {
    /**
     * The surviving turns right before and after the turns `target` forgets (an item, or an episode by
     * record), per owner and conversation: their episodes were indexed with the forgotten words at
     * neighbour weight, so the caller re-indexes them after the forget (src/memory has the analyzer).
     */
    async neighbourTurns(target: ForgetTarget): Promise<NeighbourTurns[]> {
      const gone =
        target.by === 'item'
          ? await itemTurns(target)
          : target.by === 'record'
            ? await episodeTurns(target.tenantId, target.id)
            : [];
      const keys = gone.map((g) => g.id);
      const out = new Map<string, NeighbourTurns>();
      for (const g of gone) {
        const session = db
          .selectFrom('memory_sources')
          .select('turn_id')
          .where('tenant_id', '=', target.tenantId)
          .where('user_id', '=', g.user_id)
          .where('agent_id', '=', g.agent_id)
          .where('conversation_id', '=', g.conversation_id)
          .where('session', '=', g.session)
          .where('id', 'not in', keys);
        const before = await session.where('seq', '<', g.seq).orderBy('seq', 'desc').limit(1).execute();
        const after = await session.where('seq', '>', g.seq).orderBy('seq').limit(1).execute();
        const group = `${g.user_id}\u0000${g.agent_id}\u0000${g.conversation_id}`;
        const entry = out.get(group) ?? {
          owner: { tenantId: target.tenantId, userId: g.user_id, agentId: g.agent_id },
          conversationId: g.conversation_id,
          turnIds: [],
        };
        for (const n of [...before, ...after])
          if (!entry.turnIds.includes(n.turn_id)) entry.turnIds.push(n.turn_id);
        out.set(group, entry);
      }
      return [...out.values()].filter((e) => e.turnIds.length > 0);
    },

    async forget(target: ForgetTarget): Promise<ForgetReceipt> {
      const { tenantId } = target;
      const sources = db.selectFrom('memory_sources').select('id').where('tenant_id', '=', tenantId);
      const records = db.selectFrom('memory_records').select('id').where('tenant_id', '=', tenantId);
      if (target.by === 'record') {
        const rec = await records.select('kind').where('id', '=', target.id).executeTakeFirst();
        if (!rec) return { records: 0, sources: 0, quarantined: 0 };
        const links = await db
          .selectFrom('memory_record_sources')
          .select('source_id')
          .where('record_id', '=', target.id)
          .execute();
        const keys = links.map((l) => l.source_id);
        // An episode is the turn itself: forgetting it forgets the turn as deleting its item does.
        if (rec.kind === 'episode') {
          const receipt = await forgetTurns(tenantId, await episodeTurns(tenantId, target.id));
          // A released episode whose turns were already gone has no provenance left to cascade from.
          receipt.records += await deleteRecords([target.id]);
          return receipt;
        }
        // Summaries that drew on the same turns would still carry the forgotten content.
        const summaries = (await derivedFrom(tenantId, keys)).filter((id) => id !== target.id);
        const rows = summaries.length
          ? await records.where('id', 'in', summaries).where('kind', '=', 'summary').execute()
          : [];
        return {
          records: await deleteRecords([target.id, ...rows.map((r) => r.id)]),
          sources: 0,
          quarantined: 0,
        };
      }
      if (target.by === 'item') return forgetTurns(tenantId, await itemTurns(target));
      const column =
        target.by === 'user' ? 'user_id' : target.by === 'agent' ? 'agent_id' : 'conversation_id';
      const value =
        target.by === 'user' ? target.userId : target.by === 'agent' ? target.agentId : target.conversationId;
      const turns = await sources
        .select(['turn_id', 'user_id', 'agent_id'])
        .where(column, '=', value)
        .execute();
      const keys = turns.map((r) => r.id);
      const owned = (await records.where(column, '=', value).execute()).map((r) => r.id);
      // Quarantined writes carry no conversation, only the turn ids they came from: find them first.
      const flagged = target.by === 'conversation' ? await quarantinedFrom(tenantId, turns) : [];
      const receipt = await cascade(tenantId, keys, owned);
      if (target.by !== 'conversation') {
        const q = await db
          .deleteFrom('memory_quarantine')
          .where('tenant_id', '=', tenantId)
          .where(column as 'user_id' | 'agent_id', '=', value)
          .executeTakeFirst();
        await db
          .deleteFrom('memory_jobs')
          .where('tenant_id', '=', tenantId)
          .where(column as 'user_id' | 'agent_id', '=', value)
          .execute();
        receipt.quarantined = Number(q.numDeletedRows);
      } else {
        await db
          .deleteFrom('memory_jobs')
          .where('tenant_id', '=', tenantId)
          .where('conversation_id', '=', value)
          .execute();
        for (const chunk of chunks(flagged)) {
          const q = await db
            .deleteFrom('memory_quarantine')
            .where('tenant_id', '=', tenantId)
            .where('id', 'in', chunk)
            .executeTakeFirst();
          receipt.quarantined += Number(q.numDeletedRows);
        }
      }
      return receipt;
    },

    async setRetention(tenantId: string, maxAgeMs: number | null): Promise<void> {
      await db.deleteFrom('memory_retention').where('tenant_id', '=', tenantId).execute();
      if (maxAgeMs !== null)
        await db
          .insertInto('memory_retention')
          .values({ tenant_id: tenantId, max_age_ms: maxAgeMs })
          .execute();
    },

    /** Tenants with a retention policy (what the worker's periodic sweep visits). */
    async retentionTenants(): Promise<string[]> {
      const rows = await db.selectFrom('memory_retention').select('tenant_id').orderBy('tenant_id').execute();
      return rows.map((r) => r.tenant_id);
    },

    retention,

    /**
     * The surviving turns right before and after the turns `applyRetention(tenantId, now)` removes, per
     * owner and conversation (as `neighbourTurns` for a forget): call it first with the same `now`, then
     * re-index their episodes, which hold the removed words as neighbour context. One query per session
     * that loses turns; a session's turns are ordered by seq, which need not follow `occurred_at`.
     */
    async retentionNeighbourTurns(tenantId: string, now: number): Promise<NeighbourTurns[]> {
      const cutoff = await retentionCutoff(tenantId, now);
      if (cutoff === null) return [];
      const sessions = await db
        .selectFrom('memory_sources')
        .select(['user_id', 'agent_id', 'conversation_id', 'session'])
        .distinct()
        .where('tenant_id', '=', tenantId)
        .where('occurred_at', '<', cutoff)
        .execute();
      const out = new Map<string, NeighbourTurns>();
      for (const g of sessions) {
        const turns = await db
          .selectFrom('memory_sources')
          .select(['turn_id', 'occurred_at'])
          .where('tenant_id', '=', tenantId)
          .where('user_id', '=', g.user_id)
          .where('agent_id', '=', g.agent_id)
          .where('conversation_id', '=', g.conversation_id)
          .where('session', '=', g.session)
          .orderBy('seq')
          .execute();
        const gone = turns.map((t) => Number(t.occurred_at) < cutoff);
        const group = `${g.user_id}\u0000${g.agent_id}\u0000${g.conversation_id}`;
        const entry = out.get(group) ?? {
          owner: { tenantId, userId: g.user_id, agentId: g.agent_id },
          conversationId: g.conversation_id,
          turnIds: [],
        };
        turns.forEach((t, i) => {
          if (
            !gone[i] &&
            (gone[i - 1] === true || gone[i + 1] === true) &&
            !entry.turnIds.includes(t.turn_id)
          )
            entry.turnIds.push(t.turn_id);
        });
        out.set(group, entry);
      }
      return [...out.values()].filter((e) => e.turnIds.length > 0);
    },

    /** Deletes turns said and records made before now − max age, with what derives from them. */
    async applyRetention(tenantId: string, now: number): Promise<ForgetReceipt> {
      const cutoff = await retentionCutoff(tenantId, now);
      if (cutoff === null) return { records: 0, sources: 0, quarantined: 0 };
      const keys = await db
        .selectFrom('memory_sources')
        .select('id')
        .where('tenant_id', '=', tenantId)
        .where('occurred_at', '<', cutoff)
        .execute();
      const old = await db
        .selectFrom('memory_records')
        .select('id')
        .where('tenant_id', '=', tenantId)
        .where('recorded_at', '<', cutoff)
        .execute();
      const receipt = await cascade(
        tenantId,
        keys.map((k) => k.id),
        old.map((r) => r.id),
      );
      const q = await db
        .deleteFrom('memory_quarantine')
        .where('tenant_id', '=', tenantId)
        .where('created_at', '<', cutoff)
        .executeTakeFirst();
      receipt.quarantined = Number(q.numDeletedRows);
      return receipt;
    },

    /** Rows per memory table for one tenant (the no-orphans check after a forget). */
    async rowCounts(tenantId: string): Promise<Record<string, number>> {
      const tables = [
        'memory_sources',
        'memory_records',
        'memory_record_sources',
        'memory_terms',
        'memory_quarantine',
        'memory_jobs',
      ] as const;
      const out: Record<string, number> = {};
      for (const table of tables) {
        const row = await db
          .selectFrom(table)
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .where('tenant_id', '=', tenantId)
          .executeTakeFirstOrThrow();
        out[table] = Number(row.n);
      }
      const vectors = await db
        .selectFrom('memory_records')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('tenant_id', '=', tenantId)
        .where('embedding', 'is not', null)
        .executeTakeFirstOrThrow();
      out.vectors = Number(vectors.n);
      return out;
    },
  };
}

function chunks<T>(values: readonly T[], size = 500): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < values.length; i += size) out.push(values.slice(i, i + size));
  return out;
}
