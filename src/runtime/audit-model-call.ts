import type { Principal } from '../identity/principal.js';
import type { Label } from '../labels/index.js';
import type { ModelEvent, RoutedTurn, TurnRequest } from '../providers/index.js';
import { accreditedFor } from './accreditation.js';
import { promptSha256 } from '../audit/audit-entry.js';
import { promptJson, type DecisionAudit } from './audit-decisions.js';
import { isEnclaveError } from '../errors/index.js';
import type { PendingAudit } from './pending-audit.js';
import { isRunInterrupt } from '../runs/run-interrupt.js';

export interface CallContext {
  principal: Principal;
  /** The response or chat completion id the call serves. */
  objectId: string;
  label: Label;
  startedAt: number;
  /** Set when the call is not the turn's answer (the compaction summary). */
  purpose?: 'compaction' | undefined;
  /**
   * Holds the finished call's entry instead of appending it before `done` is passed on: it commits with the
   * turn's write, or is settled before the response completes unstored (turn-stream.ts).
   */
  pending?: PendingAudit | undefined;
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
  const text = promptJson(sent.instructions, sent.items);
  return { ...routed, events: recorded(decisions, call, routed, { sha256: promptSha256(text), text }) };
}

async function* recorded(
  decisions: DecisionAudit,
  call: CallContext,
  routed: RoutedTurn,
  prompt: { sha256: string; text: string },
): AsyncGenerator<ModelEvent> {
  // A durable run's re-execution replays recorded model calls: no model was contacted, nothing to record
  // (the execution that made the call recorded it).
  const append = async (
    status: string,
    usage: { input_tokens: number; output_tokens: number } | null,
    pending?: PendingAudit,
  ) => {
    if (routed.live?.() === false) return;
    await decisions.modelCall(
      {
        principal: call.principal,
        objectId: call.objectId,
        endpoint: routed.endpoint,
        attempts: routed.attempts,
        usage,
        latencyMs: Date.now() - call.startedAt,
        label: call.label,
        promptSha256: prompt.sha256,
        promptText: prompt.text,
        status,
        purpose: call.purpose,
      },
      pending,
    );
  };
  let logged = false;
  try {
    for await (const event of routed.events) {
      if (event.type === 'done') {
        logged = true;
        await append(
          event.stopReason,
          { input_tokens: event.usage.inputTokens, output_tokens: event.usage.outputTokens },
          call.pending,
        );
      }
      yield event;
    }
  } catch (error) {
    if (!logged) {
      logged = true;
      // A run that parked on an approval (or was cancelled) at a safe point is not a failed call.
      await append(isRunInterrupt(error) ? error.reason : 'failed', null);
    }
    throw error;
  } finally {
    // A caller that stopped reading (client gone, safety block) still leaves a record of the call.
    if (!logged) await append('abandoned', null);
  }
}

/** Closes an opened model turn that will not be read (its call is recorded as abandoned where it can be). */
export async function abandon(routed: RoutedTurn): Promise<void> {
  // Started, then returned: a generator only runs its cleanup (closing the upstream stream) once started.
  const events = routed.events[Symbol.asyncIterator]();
  try {
    await events.next();
    await events.return?.();
  } catch {
    // The refusal the caller is about to throw is what counts.
  }
}
