import { randomBytes } from 'node:crypto';
import type { AuthEntry } from '../identity/auth-entry.js';
import type { Principal } from '../identity/principal.js';
import { acquireConversationWriter } from '../runs/conversation-writer.js';
import { prepareTurn, type CreateResponse, type PreparedTurn, type RuntimeDeps } from './turn.js';
import { runTurn } from './turn-stream.js';

/** How long a turn waits for another turn on the same conversation to finish before it gets 409 conflict. */
export const CONVERSATION_WAIT_MS = 30_000;

export interface SerializedTurnOptions {
  /** Pre-assigned response id (background runs). */
  id?: string | undefined;
  /** Lease holder name (who waits for whom shows up in operator tooling). */
  holder?: string | undefined;
  waitMs?: number | undefined;
  /** The request's `auth.ok` entry, unrecorded (committed with the turn's first audit commit). */
  auth?: AuthEntry | undefined;
}

/**
 * `prepareTurn` under the conversation's single-writer lease: every turn on a conversation (streaming,
 * synchronous or background) takes the lease before it reads the history and keeps it until its persist
 * step has written (which checks the lease's fencing token in its transaction). Racing turns therefore
 * serialize — the second runs on top of the first's history — and one that waits longer than `waitMs`
 * gets 409 `conflict`. Turns without a conversation take no lease.
 */
export async function prepareSerialized(
  deps: RuntimeDeps,
  principal: Principal,
  request: CreateResponse,
  signal: AbortSignal | undefined,
  options: SerializedTurnOptions = {},
): Promise<PreparedTurn> {
  const conversationId = request.conversationId;
  const turnOptions = { id: options.id, auth: options.auth };
  if (conversationId === null) return prepareTurn(deps, principal, request, signal, turnOptions);
  const holder = options.holder ?? `${principal.subject}/${randomBytes(6).toString('hex')}`;
  const writer = await acquireConversationWriter(deps.store, conversationId, holder, {
    waitMs: options.waitMs ?? CONVERSATION_WAIT_MS,
  });
  try {
    const turn = await prepareTurn(deps, principal, request, signal, turnOptions);
    turn.writer = writer;
    return turn;
  } catch (error) {
    await writer.release();
    throw error;
  }
}

/** `runTurn`, releasing the conversation's lease once the turn is stored (or abandoned). */
export async function* runSerialized(
  deps: RuntimeDeps,
  turn: PreparedTurn,
  signal: AbortSignal | undefined,
): ReturnType<typeof runTurn> {
  try {
    return yield* runTurn(deps, turn, signal);
  } finally {
    await turn.writer?.release();
  }
}
