import { randomBytes } from 'node:crypto';
import type { ModelItem } from '../providers/model-provider.js';
import type { ItemRecord } from '../store/repos/item-repo.js';
import {
  isToolItemType,
  toolApiItem,
  toolModelItem,
  type ToolItemBody,
  type ToolItemType,
} from './tool-items.js';

/**
 * The item vocabulary of the stateful API (OpenAI's Responses items): what clients send, what is stored
 * (one JSON `content` column per item), what clients get back and what a model is shown.
 */

export type MessageRole = 'user' | 'assistant' | 'system' | 'developer';

export interface TextPart {
  type: 'input_text' | 'output_text';
  text: string;
}

/** An item as parsed from a request (the API edge normalises strings to parts and snake_case to these). */
export type InputItem = (
  | { type: 'message'; role: MessageRole; content: TextPart[] }
  | { type: 'function_call'; callId: string; name: string; arguments: string }
  | { type: 'function_call_output'; callId: string; output: string }
  | { type: 'compaction'; summary: string }
) & {
  /** Per-item label (banner or portion marking); absent → the request label. */
  label?: string | undefined;
};

/** An item ready to store: its kind and body plus its label id. */
export interface NewItem {
  id: string;
  type: ItemType;
  role: MessageRole | null;
  status: 'completed' | 'incomplete' | 'in_progress';
  callId: string | null;
  body: ItemBody;
  labelId: string;
}

export type ItemType = 'message' | 'function_call' | 'function_call_output' | 'compaction' | ToolItemType;

export type ItemBody =
  | { content: TextPart[] }
  | { name: string; arguments: string }
  | { output: string }
  | { summary: string; compacted_items: number }
  | ToolItemBody;

const prefixes: Record<ItemType, string> = {
  message: 'msg',
  function_call: 'fc',
  function_call_output: 'fco',
  compaction: 'cmp',
  mcp_list_tools: 'mcpl',
  mcp_call: 'mcp',
  mcp_approval_request: 'mcpr',
  mcp_approval_response: 'mcpa',
};

export const newId = (prefix: string): string => `${prefix}_${randomBytes(16).toString('hex')}`;
export const newItemId = (type: ItemType): string => newId(prefixes[type]);

export function itemFromInput(input: InputItem, labelId: string): NewItem {
  const base = { id: newItemId(input.type), status: 'completed' as const, labelId };
  switch (input.type) {
    case 'message':
      return { ...base, type: 'message', role: input.role, callId: null, body: { content: input.content } };
    case 'function_call':
      return {
        ...base,
        type: 'function_call',
        role: null,
        callId: input.callId,
        body: { name: input.name, arguments: input.arguments },
      };
    case 'function_call_output':
      return {
        ...base,
        type: 'function_call_output',
        role: null,
        callId: input.callId,
        body: { output: input.output },
      };
    case 'compaction':
      return {
        ...base,
        type: 'compaction',
        role: null,
        callId: null,
        body: { summary: input.summary, compacted_items: 0 },
      };
  }
}

/** A stored item in the shape the runtime works with (parsed body, typed fields). */
export interface LoadedItem extends NewItem {
  createdAt: number;
}

export function loadItem(record: ItemRecord): LoadedItem {
  return {
    id: record.id,
    type: record.type as ItemType,
    role: record.role as MessageRole | null,
    status: record.status as LoadedItem['status'],
    callId: record.callId,
    body: JSON.parse(record.content) as ItemBody,
    labelId: record.labelId,
    createdAt: record.createdAt,
  };
}

const textOf = (body: ItemBody): string =>
  'content' in body ? body.content.map((p) => p.text).join('') : 'summary' in body ? body.summary : '';

/** What a model is shown of an item. A compaction becomes a developer note carrying the summary. */
export function toModelItem(item: NewItem): ModelItem {
  const b = item.body;
  if (isToolItemType(item.type) && 'tool' in b) return toolModelItem(item.type, b);
  if (item.type === 'function_call' && 'arguments' in b) {
    return { type: 'function_call', callId: item.callId ?? '', name: b.name, arguments: b.arguments };
  }
  if (item.type === 'function_call_output' && 'output' in b) {
    return { type: 'function_call_output', callId: item.callId ?? '', output: b.output };
  }
  if (item.type === 'compaction') {
    return {
      type: 'message',
      role: 'developer',
      text: `Summary of the earlier conversation (compacted by Enclave):\n${textOf(b)}`,
    };
  }
  return { type: 'message', role: item.role ?? 'user', text: textOf(b) };
}

/** The item in OpenAI's wire shape, plus Enclave's `label` (a banner) and `created_at`. */
export function toApiItem(item: NewItem, banner: string): Record<string, unknown> {
  const b = item.body;
  if (isToolItemType(item.type) && 'tool' in b) return toolApiItem(item.id, item.type, b, banner);
  const common = { id: item.id, label: banner };
  switch (item.type) {
    case 'message':
      return {
        ...common,
        type: 'message',
        role: item.role,
        status: item.status,
        content: ('content' in b ? b.content : []).map((p) =>
          p.type === 'output_text'
            ? { type: 'output_text', text: p.text, annotations: [], logprobs: [] }
            : { type: p.type, text: p.text },
        ),
      };
    case 'function_call':
      return {
        ...common,
        type: 'function_call',
        status: item.status,
        call_id: item.callId,
        ...('arguments' in b ? b : {}),
      };
    case 'function_call_output':
      return {
        ...common,
        type: 'function_call_output',
        status: item.status,
        call_id: item.callId,
        output: 'output' in b ? b.output : '',
      };
    case 'compaction':
      // Enclave keeps the summary server-side in the clear (encrypted at rest by the store), so the
      // `encrypted_content` a client gets back is the summary itself; sent back as input it round-trips.
      return { ...common, type: 'compaction', encrypted_content: textOf(b), summary: textOf(b) };
    default:
      return { ...common, type: item.type };
  }
}

export const itemText = (item: NewItem): string => textOf(item.body);
