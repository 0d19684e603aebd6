/**
 * The life of a run (a response being produced). `requires_action` is a run parked on a human approval:
 * it holds no worker and no lease, and a decision puts it back in the queue.
 *
 *   queued ──▶ in_progress ──▶ completed | failed | incomplete
 *     │            │  ▲
 *     │            ▼  │ (approval decided)
 *     │      requires_action
 *     └────────────┴──────────▶ cancelled   (at the next safe point)
 */
export type RunStatus =
  'queued' | 'in_progress' | 'requires_action' | 'completed' | 'failed' | 'incomplete' | 'cancelled';

export const finalStatuses: readonly RunStatus[] = ['completed', 'failed', 'incomplete', 'cancelled'];

const allowed: Record<RunStatus, readonly RunStatus[]> = {
  queued: ['in_progress', 'cancelled'],
  // in_progress → in_progress: a worker resuming a run whose previous worker died.
  in_progress: ['in_progress', 'requires_action', 'completed', 'failed', 'incomplete', 'cancelled'],
  requires_action: ['queued', 'in_progress', 'cancelled'],
  completed: [],
  failed: [],
  incomplete: [],
  cancelled: [],
};

export const isFinal = (status: string): boolean => (finalStatuses as readonly string[]).includes(status);

/** The states a run may be in for a move to `to` to be legal (the `from` of a compare-and-set). */
export function sourcesOf(to: RunStatus): RunStatus[] {
  return (Object.keys(allowed) as RunStatus[]).filter((from) => allowed[from].includes(to));
}

export const canMove = (from: string, to: RunStatus): boolean =>
  (allowed as Record<string, readonly RunStatus[] | undefined>)[from]?.includes(to) ?? false;
