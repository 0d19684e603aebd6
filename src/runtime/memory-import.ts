import { createHash } from 'node:crypto';
import type { Principal } from '../identity/principal.js';
import { canonicalLabel, parseBanner, UNCLASSIFIED } from '../labels/index.js';
import type { TurnInput } from '../memory/index.js';
import type { Store } from '../store/store.js';
import type { NewItem } from './items.js';
import type { LabelAccess } from './label-access.js';
import type { MemoryRuntime } from './memory-hooks.js';
import { persistWrite } from './persist.js';

export interface HistoryImport {
  tenantId: string;
  userId: string;
  agentId: string;
  /** Prefix of the conversations created (one per session). */
  conversation: string;
  /** Banner of the imported turns' label. */
  label: string;
  turns: readonly TurnInput[];
}

const digest = (...parts: string[]): string =>
  createHash('sha256').update(parts.join('\u0000')).digest('hex').slice(0, 32);

/**
 * `enclave memory import`: stores turns as the user's conversation history — one conversation per session,
 * owned by the user, each turn one message item through the runtime's write path (labelled, no write down) —
 * then hands them to memory with the caller's turn ids as provenance (`source_ids`), the item ids kept beside
 * them. Ids are derived from (tenant, user, agent, conversation, session/turn), so a re-import stores nothing
 * twice.
 */
export async function importHistory(
  deps: { store: Store; labels: LabelAccess; memory: MemoryRuntime },
  input: HistoryImport,
): Promise<{ added: number; skipped: number; conversations: number }> {
  const { store, labels } = deps;
  await store.tenants.ensure(input.tenantId);
  const label = parseBanner(input.label);
  const labelId = await labels.ensure(label);
  // The operator imports on the user's behalf, at the turns' label.
  const principal: Principal = {
    tenantId: input.tenantId,
    subject: input.userId,
    role: 'user',
    clearance: canonicalLabel(label),
    authorizations: [],
    via: 'api_key',
  };
  const scope = await labels.scope(principal);
  const owner = { tenantId: input.tenantId, userId: input.userId, agentId: input.agentId };
  const sessions = new Map<string, TurnInput[]>();
  for (const t of input.turns) sessions.set(t.session, [...(sessions.get(t.session) ?? []), t]);
  let added = 0;
  let skipped = 0;
  for (const [session, turns] of sessions) {
    const key = [input.tenantId, input.userId, input.agentId, input.conversation, session];
    const conversationId = `conv_${digest(...key)}`;
    if (!(await store.conversations.get(scope, conversationId))) {
      const now = Date.now();
      await store.conversations.insert({
        id: conversationId,
        tenantId: input.tenantId,
        labelId,
        highWaterLabelId: await labels.ensure(UNCLASSIFIED),
        metadata: JSON.stringify({ enclave_import: input.conversation, session }),
        principal: input.userId,
        createdAt: now,
        updatedAt: now,
      });
    }
    const items = turns.map((t): NewItem & { turn: TurnInput } => ({
      id: `msg_${digest(...key, t.id)}`,
      type: 'message',
      role: 'user',
      status: 'completed',
      callId: null,
      body: { content: [{ type: 'input_text', text: `${t.speaker}: ${t.text}` }] },
      labelId,
      turn: t,
    }));
    const stored = new Set(
      (
        await store.items.byIds(
          scope,
          items.map((i) => i.id),
        )
      ).map((i) => i.id),
    );
    const fresh = items.filter((i) => !stored.has(i.id));
    skipped += items.length - fresh.length;
    added += fresh.length;
    if (fresh.length)
      await persistWrite(store, labels, {
        principal,
        tenantId: input.tenantId,
        scope,
        items: fresh.map(({ turn: _turn, ...item }) => item),
        label,
        conversationId,
      });
    await deps.memory.service.importTurns(
      owner,
      conversationId,
      items.map((i) => ({ ...i.turn, itemId: i.id })),
      labelId,
    );
  }
  return { added, skipped, conversations: sessions.size };
}
