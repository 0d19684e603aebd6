import { EnclaveError } from '../errors/index.js';
import { createHash } from 'node:crypto';

/**
 * Shred scopes of stored content: which data key seals a value decides what one deletion destroys.
 *
 * - `conversation:<id>` — a conversation's metadata and every item in it: deleting the conversation
 *   shreds them all at once.
 * - `response:<id>` — a response's own columns (instructions, tools, metadata, error) and its items that
 *   belong to no conversation (a turn without `conversation`, or a failed turn stored beside one):
 *   deleting the response shreds them. A response row inside a conversation keeps its own scope, so
 *   deleting the conversation leaves the response readable (as OpenAI keeps responses).
 * - `user:<subject>` — what belongs to a person across objects (long-term memory); erased by
 *   `enclave users erase`.
 * - `agent:<id>` — long-term memory of an agent that belongs to no user (`memoryScope`).
 * - `tenant` — memory shared across a tenant's users and agents.
 */
export const conversationScope = (conversationId: string): string => `conversation:${conversationId}`;
export const responseScope = (responseId: string): string => `response:${responseId}`;

/** Subjects are free-form (OIDC `sub`); ones outside the key-scope alphabet are named by a hash. */
export function userScope(subject: string): string {
  return namedScope('user', subject);
}

/** Agent names come from request metadata (`enclave_agent`): free-form, so hashed like subjects. */
export function agentScope(agentId: string): string {
  return namedScope('agent', agentId);
}

function namedScope(prefix: string, name: string): string {
  if (/^[A-Za-z0-9_.@-]{1,150}$/.test(name)) return `${prefix}:${name}`;
  return `${prefix}:h.${createHash('sha256').update(name, 'utf8').digest('hex').slice(0, 40)}`;
}

/**
 * Long-term memory is sealed under its owner: the user's scope whenever a user owns it (agent memory kept
 * for a user included, so erasing the user destroys it), else the agent's, else the tenant's shared scope.
 */
export function memoryScope(owner: { userId: string; agentId: string }): string {
  if (owner.userId) return userScope(owner.userId);
  if (owner.agentId) return agentScope(owner.agentId);
  return 'tenant';
}

/** An item is sealed under its conversation's scope, or its response's when it joined none. */
export function itemScope(item: { id: string; conversationId: string | null; responseId: string | null }) {
  if (item.conversationId !== null) return conversationScope(item.conversationId);
  if (item.responseId !== null) return responseScope(item.responseId);
  // Every write path sets one of the two; an orphan would have no deletion that shreds it.
  throw new EnclaveError('internal', `Item ${item.id} belongs to neither a conversation nor a response.`);
}
