import { EnclaveError } from '../errors/index.js';
import type { ModelItem } from '../providers/index.js';
import { redact, type Action } from '../safety/index.js';
import type { NewItem } from './items.js';
import type { LabelAccess } from './label-access.js';
import {
  strongest,
  type SafetyGate,
  type ScreenContext,
  type Screened,
  type ScreenTarget,
} from './safety-gate.js';

/**
 * [safety in]: every text a client sends is classified before any model sees it — messages on the `input`
 * surface, tool results on `tool_output` (indirect injection), echoed tool calls on `tool_call`.
 *
 * Redaction: the model sees the redacted text and the redacted text is what gets stored, so a stored turn
 * shows exactly what the model was given and a card number or key sent by mistake never reaches the store.
 */
export interface InputScreening {
  /** The strongest action over every screened text. */
  action: Action;
  screened: Screened[];
  /** Review items that hold this request (escalations): a durable run parks on these until a reviewer decides. */
  held: string[];
}

export interface ScreenedTurnInputs extends InputScreening {
  /** The inputs as the model sees them (redacted where the policy says so). */
  items: NewItem[];
  instructions: string | null;
}

/** A text slot of an item: where it is for the client (`param`), and how to put a redacted text back. */
interface Slot {
  target: ScreenTarget & { param: string };
  put(text: string): void;
}

/**
 * Screens a turn's new items and its instructions; returns the verdicts, the strongest action and the items
 * with redactions applied. It never throws for a verdict: callers decide (`requireInputsAllowed` refuses;
 * a durable run can park on `held` instead).
 */
export async function screenInputs(
  gate: SafetyGate,
  labels: LabelAccess,
  ctx: ScreenContext,
  items: readonly NewItem[],
  instructions: string | null,
): Promise<ScreenedTurnInputs> {
  const out = items.map((item) => ({ ...item, body: structuredClone(item.body) }));
  let instr = instructions;
  const slots: Slot[] = [];
  if (instructions)
    slots.push({
      target: { surface: 'input', text: instructions, subject: 'instructions', param: 'instructions' },
      put: (t) => (instr = t),
    });
  for (const [index, item] of out.entries()) {
    const label = { label: await labels.label(item.labelId), labelId: item.labelId };
    const at = (surface: ScreenTarget['surface'], text: string, put: (t: string) => void): void => {
      slots.push({ target: { surface, text, subject: item.id, label, param: `input[${index}]` }, put });
    };
    const b = item.body;
    if ('content' in b) for (const part of b.content) at('input', part.text, (t) => (part.text = t));
    else if ('arguments' in b) at('tool_call', b.arguments, (t) => (b.arguments = t));
    else if ('output' in b) at('tool_output', b.output, (t) => (b.output = t));
    else at('input', b.summary, (t) => (b.summary = t));
  }
  const result = await screenSlots(gate, ctx, slots);
  return { ...result, items: out, instructions: instr };
}

/** The same for Chat Completions, whose inputs are provider items under the request label. */
export async function screenChatInputs(
  gate: SafetyGate,
  ctx: ScreenContext,
  items: readonly ModelItem[],
  instructions: string | undefined,
): Promise<InputScreening & { items: ModelItem[]; instructions: string | undefined }> {
  const out = items.map((i) => ({ ...i }));
  let instr = instructions;
  const slots: Slot[] = [];
  if (instructions)
    slots.push({
      target: { surface: 'input', text: instructions, subject: 'instructions', param: 'instructions' },
      put: (t) => (instr = t),
    });
  for (const item of out) {
    const subject = item.type === 'message' ? `message:${item.role}` : item.callId;
    const target = { subject, param: 'messages' };
    if (item.type === 'message')
      slots.push({ target: { ...target, surface: 'input', text: item.text }, put: (t) => (item.text = t) });
    else if (item.type === 'function_call')
      slots.push({
        target: { ...target, surface: 'tool_call', text: item.arguments },
        put: (t) => (item.arguments = t),
      });
    else
      slots.push({
        target: { ...target, surface: 'tool_output', text: item.output },
        put: (t) => (item.output = t),
      });
  }
  const result = await screenSlots(gate, ctx, slots);
  return { ...result, items: out, instructions: instr };
}

async function screenSlots(
  gate: SafetyGate,
  ctx: ScreenContext,
  slots: readonly Slot[],
): Promise<InputScreening> {
  const screened: Screened[] = [];
  for (const slot of slots) {
    if (slot.target.text.trim() === '') continue;
    const s = await gate.screen(ctx, slot.target);
    if (s.verdict.action === 'redact') slot.put(redact(slot.target.text, s.verdict));
    screened.push(s);
  }
  const held = screened.flatMap((s) => (s.verdict.action === 'escalate' && s.reviewId ? [s.reviewId] : []));
  return { action: strongest(screened), screened, held };
}

/**
 * Refuses a request whose inputs were blocked (403 safety_blocked) or escalated (403 safety_held: recorded for
 * a reviewer, nothing sent to a model). The message names the category and where it was found, never the text.
 */
export function requireInputsAllowed(screening: InputScreening): void {
  if (screening.action !== 'block' && screening.action !== 'escalate') return;
  const stopping = screening.screened.filter((s) => s.verdict.action === screening.action);
  const names = [...new Set(stopping.flatMap((s) => s.verdict.categories.map((c) => c.category)))];
  const where = [...new Set(stopping.map((s) => s.target.param ?? s.target.surface))];
  const param = where[0] ?? null;
  if (screening.action === 'escalate') {
    throw new EnclaveError(
      'safety_held',
      `This request is held for human review: ${where.join(', ')} falls under ${names.join(', ')}, a deployment ` +
        `red line. Nothing was sent to a model; a reviewer decides (review ${screening.held.join(', ')}).`,
      { param },
    );
  }
  throw new EnclaveError(
    'safety_blocked',
    `This request was blocked by the safety policy: ${where.join(', ')} falls under ${names.join(', ')}. ` +
      'Nothing was sent to a model; rephrase the request without that content.',
    { param },
  );
}
