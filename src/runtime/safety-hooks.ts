import type { Principal } from '../identity/principal.js';
import type { Label } from '../labels/index.js';
import type { ModelEvent, ModelItem } from '../providers/index.js';
import type { NewItem } from './items.js';
import type { PendingAudit } from './pending-audit.js';
import type { ScreenContext } from './safety-gate.js';
import { requireInputsAllowed, screenChatInputs, screenInputs } from './safety-inputs.js';
import { screenOutput } from './safety-output.js';
import type { PreparedTurn, RuntimeDeps } from './turn.js';

/**
 * The one-line hooks the turn paths call (`[safety in]`, `[safety out]` in turn.ts, turn-stream.ts and
 * chat-completions.ts). With safety disabled (`safety.enabled: false`) each passes its input through.
 */

/** Responses: screens new items and instructions; refuses on block/escalate; returns what the model may see. */
export async function safetyIn(
  deps: RuntimeDeps,
  principal: Principal,
  /** `pending`: the turn's audit holder; the verdicts commit with its next commit (pending-audit.ts). */
  context: { label: Label; labelId: string; pending?: PendingAudit | undefined },
  items: NewItem[],
  instructions: string | null,
): Promise<{ items: NewItem[]; instructions: string | null }> {
  if (!deps.safety?.enabled) return { items, instructions };
  const screened = await screenInputs(
    deps.safety,
    deps.labels,
    { tenantId: principal.tenantId, principal: principal.subject, ...context },
    items,
    instructions,
  );
  requireInputsAllowed(screened);
  return screened;
}

/** Chat Completions: the same over provider items, under the request label; also returns the output context. */
export async function safetyInChat(
  deps: RuntimeDeps,
  principal: Principal,
  label: Label,
  request: { items: ModelItem[]; instructions: string | undefined },
  /** The chat's audit holder: input and output verdicts commit with its next commit (pending-audit.ts). */
  pending?: PendingAudit,
): Promise<{ items: ModelItem[]; instructions: string | undefined; context: ScreenContext }> {
  const labelId = await deps.labels.ensure(label);
  const context = { tenantId: principal.tenantId, principal: principal.subject, label, labelId, pending };
  if (!deps.safety?.enabled) return { ...request, context };
  const screened = await screenChatInputs(deps.safety, context, request.items, request.instructions);
  requireInputsAllowed(screened);
  return { items: screened.items, instructions: screened.instructions, context };
}

/** Responses: the turn's model events, screened as they stream (see safety-output.ts). */
export function screenTurnOutput(deps: RuntimeDeps, turn: PreparedTurn): AsyncIterable<ModelEvent> {
  const context = {
    tenantId: turn.principal.tenantId,
    principal: turn.principal.subject,
    label: turn.label,
    labelId: turn.labelId,
    // [audit] output verdicts commit with the model call and the write decision (pending-audit.ts).
    pending: turn.audit,
  };
  return screenOutput(deps.safety, context, turn.id, turn.routed.events);
}
