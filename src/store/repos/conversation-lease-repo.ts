import type { Kysely } from 'kysely';
import { EnclaveError } from '../../errors/index.js';
import type { Database } from '../schema.js';

/** A granted single-writer lease: writes into the conversation carry `token`. */
export interface ConversationLease {
  conversationId: string;
  holder: string;
  token: number;
  expiresAt: number;
}

/**
 * The single-writer lease of each conversation, with fencing tokens. A lease is granted only when the
 * conversation has no live holder; each grant gets a token larger than every earlier one. A writer proves
 * it still holds the lease with `assertFence` inside the transaction of its write: on PostgreSQL the check
 * row-locks the lease until commit, so no new grant can slip in between the check and the write.
 */
export interface ConversationLeaseRepo {
  /** Grants the lease to `holder` or returns undefined when someone else holds a live one. */
  tryAcquire(
    conversationId: string,
    holder: string,
    ttlMs: number,
    now?: number,
  ): Promise<ConversationLease | undefined>;
  renew(lease: ConversationLease, ttlMs: number, now?: number): Promise<boolean>;
  release(lease: ConversationLease): Promise<boolean>;
  /** Throws `conflict` unless `token` is the conversation's current, live token. */
  assertFence(conversationId: string, token: number, now?: number): Promise<void>;
  current(
    conversationId: string,
  ): Promise<{ holder: string | null; token: number; expiresAt: number } | undefined>;
}

export function conversationLeaseRepo(db: Kysely<Database>): ConversationLeaseRepo {
  return {
    async tryAcquire(conversationId, holder, ttlMs, now = Date.now()) {
      await db
        .insertInto('conversation_leases')
        .values({ conversation_id: conversationId, holder: null, token: 0, expires_at: 0 })
        .onConflict((oc) => oc.column('conversation_id').doNothing())
        .execute();
      const row = await db
        .updateTable('conversation_leases')
        .set((eb) => ({ holder, token: eb('token', '+', 1), expires_at: now + ttlMs }))
        .where('conversation_id', '=', conversationId)
        .where((eb) => eb.or([eb('holder', 'is', null), eb('expires_at', '<=', now)]))
        .returning(['token', 'expires_at'])
        .executeTakeFirst();
      return row && { conversationId, holder, token: Number(row.token), expiresAt: Number(row.expires_at) };
    },
    async renew(lease, ttlMs, now = Date.now()) {
      const r = await db
        .updateTable('conversation_leases')
        .set({ expires_at: now + ttlMs })
        .where('conversation_id', '=', lease.conversationId)
        .where('token', '=', lease.token)
        .where('holder', '=', lease.holder)
        .executeTakeFirst();
      return Number(r.numUpdatedRows) > 0;
    },
    async release(lease) {
      const r = await db
        .updateTable('conversation_leases')
        .set({ holder: null, expires_at: 0 })
        .where('conversation_id', '=', lease.conversationId)
        .where('token', '=', lease.token)
        .executeTakeFirst();
      return Number(r.numUpdatedRows) > 0;
    },
    async assertFence(conversationId, token, now = Date.now()) {
      // An UPDATE (not a SELECT) so PostgreSQL locks the row until the caller's transaction ends.
      const r = await db
        .updateTable('conversation_leases')
        .set((eb) => ({ token: eb.ref('token') }))
        .where('conversation_id', '=', conversationId)
        .where('token', '=', token)
        .where('holder', 'is not', null)
        .where('expires_at', '>', now)
        .executeTakeFirst();
      if (Number(r.numUpdatedRows) === 0) {
        throw new EnclaveError(
          'conflict',
          `Conversation ${conversationId} was taken over by another request (stale writer token ${token}); retry the turn.`,
        );
      }
    },
    async current(conversationId) {
      const row = await db
        .selectFrom('conversation_leases')
        .select(['holder', 'token', 'expires_at'])
        .where('conversation_id', '=', conversationId)
        .executeTakeFirst();
      return row && { holder: row.holder, token: Number(row.token), expiresAt: Number(row.expires_at) };
    },
  };
}
