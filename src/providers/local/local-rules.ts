import { createHash } from 'node:crypto';
import type { FunctionToolSpec, ModelItem, ModelRequest } from '../model-provider.js';
import { extractiveSummary } from './extractive-summary.js';

/** Every text the offline model produces starts with this, so nobody mistakes it for a language model. */
export const localPrefix = '[enclave-local: not a language model]';

export type LocalPlan =
  | { kind: 'text'; text: string }
  | { kind: 'calls'; calls: { callId: string; name: string; arguments: string }[] };

/**
 * The offline model's whole behaviour, as pure rules over the request (documented in docs/providers.md):
 *  1. The input ends with function_call_output items → text reporting what each tool returned.
 *  2. Tools are given, tool_choice is not 'none', and the last user message contains `call <tool>` (a given
 *     tool's exact name), optionally followed by a JSON object → one function call per directive, in order.
 *     tool_choice {name} or 'required' forces a call even without a directive.
 *  3. The last user message starts with "summarize"/"summarise" (a summary of the text after it, or of the
 *     conversation when nothing follows), or the instructions ask for a summary → an extractive summary.
 *  4. Otherwise → an echo of the last user message.
 */
export function planLocalReply(
  request: Pick<ModelRequest, 'instructions' | 'items' | 'tools' | 'toolChoice'>,
): LocalPlan {
  const items = request.items;
  const last = items.at(-1);
  if (last?.type === 'function_call_output') return { kind: 'text', text: reportToolOutputs(items) };

  const userText = lastUserText(items);
  const tools = request.tools ?? [];
  if (tools.length > 0 && request.toolChoice !== 'none') {
    const calls = planCalls(userText, tools, request.toolChoice);
    if (calls.length > 0) {
      return {
        kind: 'calls',
        calls: calls.map((call, index) => ({
          ...call,
          callId: callId(items, index, call.name, call.arguments),
        })),
      };
    }
  }

  const command = /^\s*summari[sz]e\b[\s:,-]*/i.exec(userText);
  if (command || /\bsummar(y|ize|ise)\b/i.test(request.instructions ?? '')) {
    const rest = command ? userText.slice(command[0].length) : '';
    const source = rest.trim() ? [rest] : conversationTexts(items, command ? userText : undefined);
    const summary = extractiveSummary(source, 3);
    return { kind: 'text', text: `${localPrefix} Summary: ${summary || '(nothing to summarize)'}` };
  }
  if (!userText.trim()) return { kind: 'text', text: `${localPrefix} No user message was given.` };
  return { kind: 'text', text: `${localPrefix} You said: ${userText}` };
}

function lastUserText(items: readonly ModelItem[]): string {
  for (let i = items.length - 1; i >= 0; i--) {
    const item = items[i];
    if (item?.type === 'message' && item.role === 'user') return item.text;
  }
  return '';
}

/** Message texts of the conversation, without the offline model's own prefix and without `exclude`. */
function conversationTexts(items: readonly ModelItem[], exclude: string | undefined): string[] {
  const texts: string[] = [];
  for (const item of items) {
    if (item.type !== 'message' || item.role === 'system' || item.role === 'developer') continue;
    if (exclude !== undefined && item.text === exclude) continue;
    texts.push(item.text.startsWith(localPrefix) ? item.text.slice(localPrefix.length).trim() : item.text);
  }
  return texts;
}

function reportToolOutputs(items: readonly ModelItem[]): string {
  const outputs: { callId: string; output: string }[] = [];
  for (let i = items.length - 1; i >= 0; i--) {
    const item = items[i];
    if (item?.type !== 'function_call_output') break;
    outputs.unshift(item);
  }
  const names = new Map<string, string>();
  for (const item of items) if (item.type === 'function_call') names.set(item.callId, item.name);
  const parts = outputs.map((o) => `${names.get(o.callId) ?? 'an unknown tool'} returned ${o.output}`);
  return `${localPrefix} Tool results: ${parts.join('; ')}`;
}

function planCalls(
  userText: string,
  tools: readonly FunctionToolSpec[],
  toolChoice: ModelRequest['toolChoice'],
): { name: string; arguments: string }[] {
  const known = new Set(tools.map((t) => t.name));
  const calls: { name: string; arguments: string }[] = [];
  for (const match of userText.matchAll(/\bcall\s+([A-Za-z_][\w.-]*)/gi)) {
    const name = match[1] ?? '';
    if (!known.has(name)) continue;
    const after = userText.slice((match.index ?? 0) + match[0].length);
    calls.push({ name, arguments: leadingJsonObject(after) ?? '{}' });
  }
  const forced = typeof toolChoice === 'object' ? toolChoice.name : undefined;
  if (forced !== undefined) {
    const own = calls.filter((c) => c.name === forced);
    return own.length > 0 ? own : [{ name: forced, arguments: firstJsonObject(userText) ?? '{}' }];
  }
  if (calls.length > 0 || toolChoice !== 'required') return calls;
  const named = tools.find((t) => new RegExp(`\\b${escapeRegExp(t.name)}\\b`).test(userText)) ?? tools[0];
  return named ? [{ name: named.name, arguments: firstJsonObject(userText) ?? '{}' }] : [];
}

/** A JSON object starting right after optional whitespace, re-serialised compactly; undefined if none. */
function leadingJsonObject(text: string): string | undefined {
  const start = text.search(/\S/);
  return start >= 0 && text[start] === '{' ? parseObjectAt(text, start) : undefined;
}

function firstJsonObject(text: string): string | undefined {
  for (let i = text.indexOf('{'); i >= 0; i = text.indexOf('{', i + 1)) {
    const parsed = parseObjectAt(text, i);
    if (parsed !== undefined) return parsed;
  }
  return undefined;
}

/** Finds the balanced `{…}` at `start` (string-aware) and returns it if it parses as a JSON object. */
function parseObjectAt(text: string, start: number): string | undefined {
  let depth = 0;
  let inString = false;
  for (let i = start; i < text.length; i++) {
    const ch = text[i];
    if (inString) {
      if (ch === '\\') i++;
      else if (ch === '"') inString = false;
    } else if (ch === '"') inString = true;
    else if (ch === '{') depth++;
    else if (ch === '}' && --depth === 0) {
      try {
        const value: unknown = JSON.parse(text.slice(start, i + 1));
        return typeof value === 'object' && value !== null && !Array.isArray(value)
          ? JSON.stringify(value)
          : undefined;
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Deterministic in the input, distinct per call: same conversation, same ids. */
function callId(items: readonly ModelItem[], index: number, name: string, args: string): string {
  const digest = createHash('sha256')
    .update(JSON.stringify([items, index, name, args]))
    .digest('hex');
  return `call_${digest.slice(0, 24)}`;
}
