import { EnclaveError } from '../errors/index.js';
import type { ModelEvent } from '../providers/index.js';
import { redact, StreamGuard, type Verdict } from '../safety/index.js';
import { rank, type SafetyGate, type ScreenContext, type Screened } from './safety-gate.js';

/**
 * [safety out]: a model's events, screened while they stream. Text goes through a StreamGuard, so only text a
 * check has covered is passed on; function-call arguments are classified (`tool_call`) before the call is
 * passed on. When a block or escalation fires, the verdict is recorded and the stream throws `safety_blocked`
 * / `safety_held` — consumers already turn a throwing stream into a failed turn, and leaving the loop stops
 * the upstream request. The blocked text is never yielded, so it is neither sent nor stored (only the review
 * queue keeps it, under its label, for a reviewer).
 */
export async function* screenOutput(
  gate: SafetyGate | undefined,
  ctx: ScreenContext,
  subject: string,
  events: AsyncIterable<ModelEvent>,
): AsyncGenerator<ModelEvent> {
  if (!gate?.enabled) {
    yield* events;
    return;
  }
  const options = gate.streamOptions(ctx.tenantId);
  let guard: StreamGuard | undefined;
  let raw = '';
  let worst: Verdict | undefined;
  const note = (v: Verdict | undefined): void => {
    if (
      v &&
      (!worst || rank(v.action) > rank(worst.action) || (v.action === worst.action && v.score > worst.score))
    )
      worst = v;
  };
  const target = () => ({ surface: 'output' as const, text: raw, subject });

  async function* flush(): AsyncGenerator<ModelEvent> {
    if (!guard) return;
    const step = guard.end();
    note(step.verdict);
    if (step.blocked && step.verdict)
      throw refusal(await gate!.record(ctx, target(), step.verdict), 'answer');
    if (step.emit) yield { type: 'text_delta', text: step.emit };
    if (worst) await gate!.record(ctx, target(), worst);
    [guard, raw, worst] = [undefined, '', undefined];
  }

  for await (const event of events) {
    if (event.type === 'text_delta') {
      guard ??= new StreamGuard(gate.safety.engine, options);
      raw += event.text;
      const step = guard.push(event.text);
      note(step.verdict);
      if (step.blocked && step.verdict)
        throw refusal(await gate.record(ctx, target(), step.verdict), 'answer');
      if (step.emit) yield { type: 'text_delta', text: step.emit };
    } else if (event.type === 'function_call') {
      yield* flush();
      const s = await gate.screen(ctx, {
        surface: 'tool_call',
        text: event.arguments,
        subject: event.callId,
        param: event.name,
      });
      if (s.verdict.action === 'block' || s.verdict.action === 'escalate')
        throw refusal(s, `call to tool '${event.name}'`);
      yield s.verdict.action === 'redact'
        ? { ...event, arguments: redact(event.arguments, s.verdict) }
        : event;
    } else {
      yield* flush();
      yield event;
    }
  }
  // A stream that ended without `done` still gets its last check (the consumer reports the missing end).
  yield* flush();
}

/** The refusal that ends a screened stream: names the category, never the text. */
function refusal(s: Screened, what: string): EnclaveError {
  const names = [...new Set(s.verdict.categories.map((c) => c.category))].join(', ') || 'policy';
  if (s.verdict.action === 'escalate') {
    return new EnclaveError(
      'safety_held',
      `The model's ${what} falls under ${names}, a deployment red line, and is held for human review ` +
        `(review ${s.reviewId ?? 'not queued'}). It was stopped before it reached you and was not stored.`,
    );
  }
  return new EnclaveError(
    'safety_blocked',
    `The safety policy stopped the model's ${what} (${names}). The blocked content was neither sent nor stored.`,
  );
}
