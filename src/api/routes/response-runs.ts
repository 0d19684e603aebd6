import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Services } from '../../app/services.js';
import { EnclaveError, isEnclaveError, notFound } from '../../errors/index.js';
import type { Principal } from '../../identity/principal.js';
import { runError } from '../../runs/response-runs.js';
import type { CreateResponse } from '../../runtime/index.js';
import type { McpApprovalResponse } from '../../tools/mcp/mcp-request-tool.js';
import { anyRole, defineRoute } from '../route.js';
import { labelHeader } from '../schemas/items.js';
import { openSse } from '../sse.js';
import { toCreateResponse, type CreateBody } from './responses.js';

/**
 * The Responses API's durable side (src/runs): `background: true`, requests with MCP tools, the client's
 * `mcp_approval_response` answers, stream resumption (`GET …?stream=true&starting_after=N`), cancel, and the
 * approvals route. These requests run as runs in the worker pool; a synchronous caller waits for the run to
 * finish or park on an approval. See docs/runs.md.
 */

interface CreateContext {
  body: CreateBody;
  principal: Principal;
  services: Services;
  request: FastifyRequest;
  reply: FastifyReply;
}

const approvalAnswers = (body: CreateBody): McpApprovalResponse[] =>
  Array.isArray(body.input)
    ? body.input.flatMap((i) => (i.type === 'mcp_approval_response' ? [i as McpApprovalResponse] : []))
    : [];
const mcpTools = (body: CreateBody): unknown[] => (body.tools ?? []).filter((t) => t.type === 'mcp');

/** Whether this request is executed as a durable run rather than on the request's own path. */
export const runsCreateRequest = (body: CreateBody): boolean =>
  body.background === true || mcpTools(body).length > 0 || approvalAnswers(body).length > 0;

export async function createAsRun(ctx: CreateContext, signal: AbortSignal): Promise<unknown> {
  const { body, principal, services } = ctx;
  const runs = services.runs.responses;
  if (body.store === false) {
    throw new EnclaveError(
      'invalid_request',
      'Background responses and MCP tools need store=true: Enclave runs them as durable runs it must store.',
      { param: body.background ? 'background' : 'store' },
    );
  }
  let id: string;
  let after = -1;
  const answers = approvalAnswers(body);
  if (answers.length > 0) {
    if (Array.isArray(body.input) && body.input.length !== answers.length) {
      throw new EnclaveError(
        'invalid_request',
        'Send mcp_approval_response items on their own: the parked response continues where it stopped.',
        { param: 'input' },
      );
    }
    // The answer continues the parked response (same id), wherever it runs; a stream resumes after what
    // the client already saw.
    id = await runs.answer(principal, answers);
    after = await runs.lastEvent(principal, id);
  } else {
    const created = toCreateResponse(body, labelHeader(ctx.request.headers));
    id = await runs.submit(principal, created, {
      mcpTools: mcpTools(body),
      background: body.background === true,
    });
  }
  if (body.stream) return streamRun(ctx, id, after, signal);
  if (body.background) return runs.view(principal, id, answers.length === 0);
  const run = await runs.settle(principal, id);
  const failure = runError(run);
  if (failure) throw failure;
  return runs.view(principal, id);
}

/**
 * [safety in] escalation on the request's own path: the request is kept as a run parked on a reviewer's
 * approval (it survives restarts); the caller still gets 403 `safety_held`, now naming the response that
 * continues once a reviewer approves. Anything else is rethrown as it was.
 */
export async function heldAsRun(
  services: Services,
  principal: Principal,
  body: CreateBody,
  created: CreateResponse,
  error: unknown,
): Promise<never> {
  if (!isEnclaveError(error) || error.code !== 'safety_held' || body.store === false) throw error;
  const id = await services.runs.responses.submit(principal, created, {
    mcpTools: [],
    background: false,
    held: { reason: error.message },
  });
  throw new EnclaveError(
    'safety_held',
    `${error.message} The request is kept as response ${id}: a reviewer answers its approval request ` +
      `(GET /v1/approvals, POST /v1/approvals/{id}) and it then runs; poll GET /v1/responses/${id}.`,
    { param: error.param },
  );
}

async function streamRun(ctx: CreateContext | GetContext, id: string, after: number, signal: AbortSignal) {
  const runs = ctx.services.runs.responses;
  // Fail before the stream opens when the id is unknown, so the client gets a 404, not an empty stream.
  if (!(await runs.run(ctx.principal, id))) throw notFound('response', id);
  const sse = openSse(ctx.reply);
  try {
    for await (const event of runs.follow(ctx.principal, id, after, signal)) {
      if (sse.closed()) break;
      sse.write(event.data, event.type);
    }
  } finally {
    sse.end();
  }
  return undefined;
}

interface GetContext {
  params: { id: string };
  query: { stream?: 'true' | 'false' | undefined; starting_after?: number | undefined };
  principal: Principal;
  services: Services;
  reply: FastifyReply;
}

/** GET /v1/responses/{id}: the stored or running response; `stream=true` replays its events, then follows. */
export async function getResponse(ctx: GetContext): Promise<unknown> {
  const { params, query, principal, services } = ctx;
  if (query.stream === 'true') {
    const controller = new AbortController();
    ctx.reply.raw.on('close', () => controller.abort());
    return streamRun(ctx, params.id, query.starting_after ?? -1, controller.signal);
  }
  return services.runs.responses.view(principal, params.id);
}

const idParams = z.object({ id: z.string().min(1) });

export const cancelResponseRoute = defineRoute({
  method: 'POST',
  url: '/v1/responses/:id/cancel',
  summary: 'Cancel a background response: it stops at its next safe point (409 when it already finished).',
  tag: 'responses',
  auth: anyRole,
  params: idParams,
  handle: async ({ params, principal, services }) => services.runs.responses.cancel(principal, params.id),
});

export const listApprovalsRoute = defineRoute({
  method: 'GET',
  url: '/v1/approvals',
  summary: 'Pending approval requests (reviewers and admins see the tenant’s; others their own).',
  tag: 'approvals',
  auth: anyRole,
  query: z.object({ limit: z.coerce.number().int().min(1).max(100).default(50) }),
  handle: async ({ query, principal, services }) =>
    services.runs.responses.listApprovals(principal, query.limit),
});

export const decideApprovalRoute = defineRoute({
  method: 'POST',
  url: '/v1/approvals/:id',
  summary:
    'Answer an approval request (the requester or a reviewer; safety holds need a reviewer other than the requester).',
  tag: 'approvals',
  auth: anyRole,
  params: idParams,
  body: z.object({ approve: z.boolean(), reason: z.string().max(2000).nullish() }),
  handle: async ({ params, body, principal, services }) => {
    await services.runs.responses.decide(principal, params.id, body.approve, body.reason ?? null);
    return { id: params.id, object: 'approval_request', status: body.approve ? 'approved' : 'rejected' };
  },
});

export const responseRunRoutes = [cancelResponseRoute, listApprovalsRoute, decideApprovalRoute];
