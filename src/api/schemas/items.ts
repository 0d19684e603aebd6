import { z } from 'zod';
import type { InputItem } from '../../runtime/index.js';

/** Text parts a client may send; images and files are not supported (yet) and are refused by name. */
const textPart = z.object({ type: z.enum(['input_text', 'output_text']), text: z.string() });
const content = z.union([z.string(), z.array(textPart).min(1)]);
const label = z.string().min(1).max(4096).optional();
/** Ids and statuses echoed back from earlier output are accepted and ignored: Enclave assigns its own ids. */
const echoed = { id: z.string().optional(), status: z.string().optional(), label };

const message = z.object({
  type: z.literal('message'),
  role: z.enum(['user', 'assistant', 'system', 'developer']),
  content,
  ...echoed,
});
const functionCall = z.object({
  type: z.literal('function_call'),
  call_id: z.string().min(1).max(256),
  name: z.string().min(1).max(256),
  arguments: z.string(),
  ...echoed,
});
const functionCallOutput = z.object({
  type: z.literal('function_call_output'),
  call_id: z.string().min(1).max(256),
  output: content,
  ...echoed,
});
const compaction = z.object({ type: z.literal('compaction'), encrypted_content: z.string(), ...echoed });

/** One input item; `{role, content}` without `type` is a message, as in OpenAI's API. */
export const inputItemSchema = z.preprocess(
  (value) =>
    typeof value === 'object' && value !== null && !('type' in value) && 'role' in value
      ? { ...value, type: 'message' }
      : value,
  z.discriminatedUnion('type', [message, functionCall, functionCallOutput, compaction], {
    error: 'must be a message, function_call, function_call_output or compaction item',
  }),
);

type WireItem = z.output<typeof inputItemSchema>;

const parts = (c: z.output<typeof content>, role: string) =>
  typeof c === 'string'
    ? [{ type: role === 'assistant' ? ('output_text' as const) : ('input_text' as const), text: c }]
    : c;

/** Wire item → the runtime's item (camelCase, parts normalised, label kept). */
export function toInputItem(item: WireItem): InputItem {
  const withLabel = item.label === undefined ? {} : { label: item.label };
  switch (item.type) {
    case 'message':
      return { type: 'message', role: item.role, content: parts(item.content, item.role), ...withLabel };
    case 'function_call':
      return {
        type: 'function_call',
        callId: item.call_id,
        name: item.name,
        arguments: item.arguments,
        ...withLabel,
      };
    case 'function_call_output':
      return {
        type: 'function_call_output',
        callId: item.call_id,
        output: typeof item.output === 'string' ? item.output : item.output.map((p) => p.text).join(''),
        ...withLabel,
      };
    case 'compaction':
      return { type: 'compaction', summary: item.encrypted_content, ...withLabel };
  }
}

export const pageQuery = z.object({
  after: z.string().min(1).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  order: z.enum(['asc', 'desc']).default('desc'),
  include: z.union([z.string(), z.array(z.string())]).optional(),
});

export const metadataSchema = z
  .record(z.string().max(64), z.string().max(512))
  .refine((m) => Object.keys(m).length <= 16, 'at most 16 keys');

/** The request label header (see docs/api.md). */
export const labelHeader = (headers: Record<string, string | string[] | undefined>): string | undefined => {
  const value = headers['enclave-classification'];
  return Array.isArray(value) ? value.join(', ') : value;
};
