import { z } from 'zod';
import { EnclaveError } from '../../errors/index.js';
import type { ModelItem } from '../../providers/index.js';
import { completeChat, prepareChat, streamChat } from '../../runtime/chat-completions.js';
import type { ChatRequest } from '../../runtime/index.js';
import { defineRoute, anyRole } from '../route.js';
import { labelHeader } from '../schemas/items.js';
import { disconnectSignal, openSse } from '../sse.js';

const textContent = z
  .union([z.string(), z.array(z.object({ type: z.literal('text'), text: z.string() })).min(1)])
  .nullish();
const toolCall = z.object({
  id: z.string().min(1),
  type: z.literal('function'),
  function: z.object({ name: z.string().min(1), arguments: z.string() }),
});
const message = z.discriminatedUnion('role', [
  z.object({ role: z.literal('system'), content: textContent }),
  z.object({ role: z.literal('developer'), content: textContent }),
  z.object({ role: z.literal('user'), content: textContent }),
  z.object({ role: z.literal('assistant'), content: textContent, tool_calls: z.array(toolCall).nullish() }),
  z.object({ role: z.literal('tool'), content: textContent, tool_call_id: z.string().min(1) }),
]);

const body = z.object({
  model: z.string().min(1),
  messages: z.array(message).min(1),
  tools: z
    .array(
      z.object({
        type: z.literal('function'),
        function: z.object({
          name: z.string().min(1),
          description: z.string().nullish(),
          parameters: z.record(z.string(), z.unknown()).nullish(),
          strict: z.boolean().nullish(),
        }),
      }),
    )
    .nullish(),
  tool_choice: z
    .union([
      z.enum(['auto', 'none', 'required']),
      z.object({ type: z.literal('function'), function: z.object({ name: z.string() }) }),
    ])
    .nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  max_tokens: z.number().int().min(1).nullish(),
  max_completion_tokens: z.number().int().min(1).nullish(),
  n: z.literal(1, { error: 'only n = 1 is supported' }).nullish(),
  stream: z.boolean().nullish(),
  stream_options: z.object({ include_usage: z.boolean().nullish() }).nullish(),
});

const text = (c: z.output<typeof textContent>): string =>
  c == null ? '' : typeof c === 'string' ? c : c.map((p) => p.text).join('');

function toChatRequest(b: z.output<typeof body>, label: string | undefined): ChatRequest {
  const items: ModelItem[] = [];
  const calls = new Set<string>();
  for (const [index, m] of b.messages.entries()) {
    if (m.role === 'tool') {
      if (!calls.has(m.tool_call_id)) {
        throw new EnclaveError(
          'invalid_request',
          `messages[${index}] answers tool_call_id '${m.tool_call_id}', which no earlier assistant message called.`,
          {
            param: `messages[${index}].tool_call_id`,
          },
        );
      }
      items.push({ type: 'function_call_output', callId: m.tool_call_id, output: text(m.content) });
      continue;
    }
    if (m.content != null || m.role !== 'assistant')
      items.push({ type: 'message', role: m.role, text: text(m.content) });
    if (m.role === 'assistant') {
      for (const c of m.tool_calls ?? []) {
        calls.add(c.id);
        items.push({
          type: 'function_call',
          callId: c.id,
          name: c.function.name,
          arguments: c.function.arguments,
        });
      }
    }
  }
  const choice = b.tool_choice;
  return {
    model: b.model,
    instructions: undefined,
    items,
    tools: (b.tools ?? []).map((t) => ({
      name: t.function.name,
      parameters: t.function.parameters ?? { type: 'object', properties: {} },
      ...(t.function.description ? { description: t.function.description } : {}),
      ...(t.function.strict != null ? { strict: t.function.strict } : {}),
    })),
    toolChoice:
      choice == null ? undefined : typeof choice === 'string' ? choice : { name: choice.function.name },
    temperature: b.temperature ?? undefined,
    maxTokens: b.max_completion_tokens ?? b.max_tokens ?? undefined,
    label,
  };
}

export const chatCompletionsRoute = defineRoute({
  method: 'POST',
  url: '/v1/chat/completions',
  summary: 'Chat Completions (stateless; stream as SSE), through the same label gate and accredited routing.',
  tag: 'chat',
  auth: anyRole,
  body,
  // [audit] the auth entry commits with the chat's first batch (one durable commit less per request).
  joinsAuthAudit: true,
  handle: async ({ body: b, principal, services, request, reply, authEntry }) => {
    const signal = disconnectSignal(reply);
    const chat = await prepareChat(
      services.runtime.deps,
      principal,
      toChatRequest(b, labelHeader(request.headers)),
      signal,
      { auth: authEntry },
    );
    if (!b.stream) return completeChat(chat);
    const sse = openSse(reply);
    try {
      for await (const chunk of streamChat(chat, b.stream_options?.include_usage === true)) {
        if (sse.closed()) break;
        sse.write(chunk);
      }
    } catch (error) {
      // Headers are out: report the failure in-band the way OpenAI-compatible servers do, then end.
      const e =
        error instanceof EnclaveError
          ? error
          : new EnclaveError('upstream_error', 'The model stream failed.');
      sse.write(e.toBody());
    }
    sse.write('[DONE]');
    sse.end();
    return undefined;
  },
});

export const modelsRoute = defineRoute({
  method: 'GET',
  url: '/v1/models',
  summary: 'The configured model endpoints (provider/model ids).',
  tag: 'models',
  auth: anyRole,
  handle: async ({ services }) => ({
    object: 'list',
    data: services.runtime.router.listModels().map((m) => ({
      id: m.id,
      object: 'model',
      created: 0,
      owned_by: m.provider,
      context_window: m.contextWindow,
    })),
  }),
});

export const getModelRoute = defineRoute({
  method: 'GET',
  // Model ids contain a slash (`provider/model`), so the id is the rest of the path.
  url: '/v1/models/*',
  summary: 'One configured model endpoint.',
  tag: 'models',
  auth: anyRole,
  params: z.object({ '*': z.string().min(1) }),
  handle: async ({ params, services }) => {
    const m = services.runtime.router.resolve(params['*']);
    return { id: m.id, object: 'model', created: 0, owned_by: m.provider, context_window: m.contextWindow };
  },
});
