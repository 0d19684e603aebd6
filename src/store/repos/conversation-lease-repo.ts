import type { Kysely } from 'kysely';
import { EnclaveError } from '../../errors/index.js';
import type { Dialect } from '../migrations/migration.js';
import type { Database } from '../schema.js';
import { insertText, runText, SqlTexts } from './fixed-sql.js';

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

// Every conversation turn takes, checks and gives back its lease: fixed texts (see fixed-sql.ts).
const texts = new SqlTexts(8);
const ensureSql = (dialect: Dialect) =>
  texts.get(dialect, 'ensure', () =>
    insertText(
      'conversation_leases',
      ['conversation_id', 'holder', 'token', 'expires_at'],
      1,
      ' on conflict ("conversation_id") do nothing',
    ),
  );
const acquireSql = (dialect: Dialect) =>
  texts.get(
    dialect,
    'acquire',
    () =>
      'update "conversation_leases" set "holder" = ?, "token" = "token" + ?, "expires_at" = ? ' +
      'where "conversation_id" = ? and ("holder" is null or "expires_at" <= ?) returning "token", "expires_at"',
  );
const releaseSql = (dialect: Dialect) =>
  texts.get(
    dialect,
    'release',
    () =>
      'update "conversation_leases" set "holder" = ?, "expires_at" = ? where "conversation_id" = ? and "token" = ?',
  );
const fenceSql = (dialect: Dialect) =>
  texts.get(
    dialect,
    'fence',
    () =>
      'update "conversation_leases" set "token" = "token" ' +
      'where "conversation_id" = ? and "token" = ? and "holder" is not null and "expires_at" > ?',
  );

export function conversationLeaseRepo(db: Kysely<Database>, dialect: Dialect): ConversationLeaseRepo {
  return {
    async tryAcquire(conversationId, holder, ttlMs, now = Date.now()) {
      await runText(db, ensureSql(dialect), [conversationId, null, 0, 0]);
      const { rows } = await runText<{ token: number | string; expires_at: number | string }>(
        db,
        acquireSql(dialect),
        [holder, 1, now + ttlMs, conversationId, now],
      );
      const row = rows[0];
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
      const r = await runText(db, releaseSql(dialect), [null, 0, lease.conversationId, lease.token]);
      return Number(r.numAffectedRows ?? 0n) > 0;
    },
    async assertFence(conversationId, token, now = Date.now()) {
      // An UPDATE (not a SELECT) so PostgreSQL locks the row until the caller's transaction ends.
      const r = await runText(db, fenceSql(dialect), [conversationId, token, now]);
      if (Number(r.numAffectedRows ?? 0n) === 0) {
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
