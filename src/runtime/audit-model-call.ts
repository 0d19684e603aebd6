import type { Principal } from '../identity/principal.js';
import type { Label } from '../labels/index.js';
import type { ModelEvent, RoutedTurn, TurnRequest } from '../providers/index.js';
import { accreditedFor } from './accreditation.js';
import { promptDigest, type DecisionAudit } from './audit-decisions.js';
import { isEnclaveError } from '../errors/index.js';

export interface CallContext {
  principal: Principal;
  /** The response or chat completion id the call serves. */
  objectId: string;
  label: Label;
  startedAt: number;
}

/**
 * Opens a model turn on accredited endpoints only, recording the routing refusal (`routing.not_accredited`)
 * when no endpoint of the chain may receive the context label, and wraps the answer so its `model.call` entry
 * is appended before the final event reaches the caller: if the append fails the turn fails (fail-closed),
 * before anything is stored.
 */
export async function openAudited(
  decisions: DecisionAudit,
  call: CallContext,
  open: (isAllowed: ReturnType<typeof accreditedFor>) => Promise<RoutedTurn>,
  sent: Pick<TurnRequest, 'instructions' | 'items'>,
): Promise<RoutedTurn> {
  let routed: RoutedTurn;
  try {
    routed = await open(accreditedFor(call.label));
  } catch (error) {
    if (isEnclaveError(error) && error.code === 'not_accredited') {
      await decisions.access({
        principal: call.principal,
        action: 'route',
        kind: 'model',
        objectId: call.objectId,
        sessionLabel: call.label,
        allow: false,
        rule: 'routing.not_accredited',
        detail: { reason: error.message },
      });
    }
    throw error;
  }
  const prompt = promptDigest(sent.instructions, sent.items);
  return { ...routed, events: recorded(decisions, call, routed, prompt) };
}

async function* recorded(
  decisions: DecisionAudit,
  call: CallContext,
  routed: RoutedTurn,
  promptSha256: string,
): AsyncGenerator<ModelEvent> {
  const append = (status: string, usage: { input_tokens: number; output_tokens: number } | null) =>
    decisions.modelCall({
      principal: call.principal,
      objectId: call.objectId,
      endpoint: routed.endpoint,
      attempts: routed.attempts,
      usage,
      latencyMs: Date.now() - call.startedAt,
      label: call.label,
      promptSha256,
      status,
    });
  let logged = false;
  try {
    for await (const event of routed.events) {
      if (event.type === 'done') {
        logged = true;
        await append(event.stopReason, {
          input_tokens: event.usage.inputTokens,
          output_tokens: event.usage.outputTokens,
        });
      }
      yield event;
    }
  } catch (error) {
    if (!logged) {
      logged = true;
      await append('failed', null);
    }
    throw error;
  } finally {
    // A caller that stopped reading (client gone, safety block) still leaves a record of the call.
    if (!logged) await append('abandoned', null);
  }
}
