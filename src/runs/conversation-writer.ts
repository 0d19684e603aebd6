import { EnclaveError } from '../errors/index.js';
import type { ConversationLease } from '../store/repos/conversation-lease-repo.js';
import type { Store } from '../store/store.js';

export interface WriterOptions {
  /** How long a second writer waits for the conversation before it gets a 409 (default 30 s). */
  waitMs?: number;
  /** Lease lifetime; renewed while `fn` runs, so only a dead holder's lease runs out (default 30 s). */
  ttlMs?: number;
}

/** A held single-writer lease; `release` is idempotent and never throws. */
export interface ConversationWriter {
  readonly lease: ConversationLease;
  release(): Promise<void>;
}

/**
 * Takes the single-writer lease of a conversation. Concurrent turns on one conversation serialize: the
 * second waits (bounded by `waitMs`, default 30 s) for the first to release, then runs on top of its
 * history; when the wait runs out it gets `conflict` (409). The lease is renewed until released, so only
 * a dead holder's lease runs out. Writes under it must call
 * `store.conversationLeases.assertFence(conversationId, lease.token)` in their transaction, so a holder
 * that stalled past its lease (and was replaced) can never append to the history.
 */
export async function acquireConversationWriter(
  store: Store,
  conversationId: string,
  holder: string,
  options: WriterOptions = {},
): Promise<ConversationWriter> {
  const waitMs = options.waitMs ?? 30_000;
  const ttlMs = options.ttlMs ?? 30_000;
  const deadline = Date.now() + waitMs;
  let pause = 10;
  let lease = await store.conversationLeases.tryAcquire(conversationId, holder, ttlMs);
  while (!lease) {
    if (Date.now() >= deadline) {
      throw new EnclaveError(
        'conflict',
        `Conversation ${conversationId} is busy with another response; retry when it has finished.`,
        { param: 'conversation' },
      );
    }
    await new Promise((resolve) => setTimeout(resolve, Math.min(pause, Math.max(1, deadline - Date.now()))));
    pause = Math.min(pause * 2, 200);
    lease = await store.conversationLeases.tryAcquire(conversationId, holder, ttlMs);
  }
  const held = lease;
  const renew = setInterval(
    () => void store.conversationLeases.renew(held, ttlMs).catch(() => undefined),
    ttlMs / 3,
  );
  renew.unref();
  let released = false;
  return {
    lease: held,
    async release() {
      if (released) return;
      released = true;
      clearInterval(renew);
      await store.conversationLeases.release(held).catch(() => undefined);
    },
  };
}

/** Runs `fn` as the only writer of a conversation (see `acquireConversationWriter`). */
export async function withConversationWriter<T>(
  store: Store,
  conversationId: string,
  holder: string,
  fn: (lease: ConversationLease) => Promise<T>,
  options: WriterOptions = {},
): Promise<T> {
  const writer = await acquireConversationWriter(store, conversationId, holder, options);
  try {
    return await fn(writer.lease);
  } finally {
    await writer.release();
  }
}
