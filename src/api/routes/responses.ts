import { z } from 'zod';
import { EnclaveError } from '../../errors/index.js';
import type { CreateResponse } from '../../runtime/index.js';
import { defineRoute, anyRole } from '../route.js';
import { inputItemSchema, labelHeader, metadataSchema, pageQuery, toInputItem } from '../schemas/items.js';
import { disconnectSignal, openSse } from '../sse.js';
import { mcpApprovalResponseSchema, mcpRequestToolSchema } from '../../tools/mcp/mcp-request-tool.js';
import { createAsRun, getResponse, heldAsRun, runsCreateRequest } from './response-runs.js';
import { runsForMemoryTool } from '../../runtime/memory-tool.js';

const functionTool = z.object({
  type: z.literal('function', { error: "only tools of type 'function' are supported" }),
  name: z.string().min(1).max(128),
  description: z.string().nullish(),
  parameters: z.record(z.string(), z.unknown()).nullish(),
  strict: z.boolean().nullish(),
});

const toolChoice = z.union([
  z.enum(['auto', 'none', 'required']),
  z.object({ type: z.literal('function'), name: z.string().min(1) }),
]);

export const createResponseBody = z.object({
  model: z.string().min(1),
  input: z.union([z.string(), z.array(z.union([mcpApprovalResponseSchema, inputItemSchema]))]).optional(),
  instructions: z.string().nullish(),
  previous_response_id: z.string().min(1).nullish(),
  conversation: z.union([z.string().min(1), z.object({ id: z.string().min(1) })]).nullish(),
  store: z.boolean().nullish(),
  stream: z.boolean().nullish(),
  // [runs] background responses, MCP tools and approval answers are durable runs (response-runs.ts).
  background: z.boolean().nullish(),
  metadata: metadataSchema.nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().min(0).max(1).nullish(),
  max_output_tokens: z.number().int().min(1).nullish(),
  tools: z.array(z.union([functionTool, mcpRequestToolSchema])).nullish(),
  tool_choice: toolChoice.nullish(),
  parallel_tool_calls: z.boolean().nullish(),
  truncation: z.enum(['auto', 'disabled']).nullish(),
  context_management: z
    .array(
      z.object({ type: z.literal('compaction'), compact_threshold: z.number().int().positive().nullish() }),
    )
    .nullish(),
});

export type CreateBody = z.output<typeof createResponseBody>;

export function toCreateResponse(body: CreateBody, label: string | undefined): CreateResponse {
  const input =
    body.input === undefined
      ? []
      : typeof body.input === 'string'
        ? [{ role: 'user' as const, content: body.input, type: 'message' as const }]
        : body.input.filter((i) => i.type !== 'mcp_approval_response');
  if (input.length === 0 && !body.previous_response_id && !body.conversation) {
    throw new EnclaveError('invalid_request', "Send 'input' (a string or a list of items).", {
      param: 'input',
    });
  }
  return {
    model: body.model,
    input: input.map(toInputItem),
    instructions: body.instructions ?? null,
    previousResponseId: body.previous_response_id ?? null,
    conversationId:
      body.conversation == null
        ? null
        : typeof body.conversation === 'string'
          ? body.conversation
          : body.conversation.id,
    metadata: body.metadata ?? {},
    tools: (body.tools ?? [])
      .flatMap((t) => (t.type === 'function' ? [t] : []))
      .map((t) => ({
        type: 'function',
        name: t.name,
        description: t.description,
        parameters: t.parameters ?? null,
        strict: t.strict,
      })),
    params: {
      temperature: body.temperature ?? null,
      max_output_tokens: body.max_output_tokens ?? null,
      tool_choice: body.tool_choice ?? 'auto',
      truncation: body.truncation ?? 'disabled',
      store: body.store ?? true,
      parallel_tool_calls: body.parallel_tool_calls ?? true,
      top_p: body.top_p ?? null,
      context_management: body.context_management ?? null,
    },
    label,
  };
}

export const createResponseRoute = defineRoute({
  method: 'POST',
  url: '/v1/responses',
  summary: 'Create a model response (stateful: previous_response_id or conversation; stream as SSE).',
  tag: 'responses',
  auth: anyRole,
  body: createResponseBody,
  // [audit] the auth entry commits with the turn's first batch (one durable commit less per request).
  joinsAuthAudit: true,
  handle: async ({ body, principal, services, request, reply, authEntry }) => {
    const signal = disconnectSignal(reply);
    const responses = services.runtime.responses;
    // [memory tool] with memory on, a stored turn runs as a run: the model may call the memory tool there.
    if (runsCreateRequest(body) || runsForMemoryTool(services.runtime.deps.memory, principal, body)) {
      await authEntry?.recorded();
      return createAsRun({ body, principal, services, request, reply }, signal);
    }
    const created = toCreateResponse(body, labelHeader(request.headers));
    const turn = await responses
      .prepare(principal, structuredClone(created), signal, authEntry)
      .catch(async (error: unknown) => {
        await authEntry?.recorded(); // a held request is stored as a run only once the auth entry is durable
        return heldAsRun(services, principal, body, created, error);
      });
    const events = responses.run(turn, signal);
    if (!body.stream) {
      let step = await events.next();
      while (!step.done) step = await events.next();
      if (step.value.error !== undefined) throw step.value.error;
      return step.value.response;
    }
    const sse = openSse(reply);
    // Drain to the end even after a disconnect: the runtime stores the turn as incomplete.
    for (let step = await events.next(); !step.done; step = await events.next())
      sse.write(step.value, step.value.type);
    sse.end();
    return undefined;
  },
});

const idParams = z.object({ id: z.string().min(1) });

export const getResponseRoute = defineRoute({
  method: 'GET',
  url: '/v1/responses/:id',
  summary: 'Retrieve a stored response.',
  tag: 'responses',
  auth: anyRole,
  params: idParams,
  query: z.object({
    stream: z.enum(['true', 'false']).optional(),
    starting_after: z.coerce.number().int().min(-1).optional(),
    include: z.union([z.string(), z.array(z.string())]).optional(),
  }),
  handle: async (ctx) => getResponse(ctx),
});

export const deleteResponseRoute = defineRoute({
  method: 'DELETE',
  url: '/v1/responses/:id',
  summary: 'Delete a stored response (items it added to a conversation stay there).',
  tag: 'responses',
  auth: anyRole,
  params: idParams,
  handle: async ({ params, principal, services }) => services.runtime.responses.delete(principal, params.id),
});

export const responseInputItemsRoute = defineRoute({
  method: 'GET',
  url: '/v1/responses/:id/input_items',
  summary: 'The items the model saw for a response (history and new input), paged.',
  tag: 'responses',
  auth: anyRole,
  params: idParams,
  query: pageQuery,
  handle: async ({ params, query, principal, services }) =>
    services.runtime.responses.inputItems(principal, params.id, {
      after: query.after,
      limit: query.limit,
      order: query.order,
    }),
});

export const responseRoutes = [
  createResponseRoute,
  getResponseRoute,
  deleteResponseRoute,
  responseInputItemsRoute,
];
