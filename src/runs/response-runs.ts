import { randomBytes } from 'node:crypto';
import { EnclaveError, notFound } from '../errors/index.js';
import { errorCodes, type ErrorCode } from '../errors/error-codes.js';
import type { Principal } from '../identity/principal.js';
import type { CreateResponse, Runtime } from '../runtime/index.js';
import { requestLabel } from '../runtime/label-gate.js';
import { renderResponse } from '../runtime/response-object.js';
import type { ReadScope } from '../store/read-scope.js';
import type { RunRecord } from '../store/repos/run-repo.js';
import type { Store } from '../store/store.js';
import type { McpApprovalResponse } from '../tools/mcp/mcp-request-tool.js';
import { RESPONSE_RUN, type ResponseRunInput } from './response-run.js';
import type { RunService } from './run-service.js';
import { isFinal } from './run-status.js';

/** A run at rest: finished, or parked on a human decision. A synchronous caller waits until then. */
const atRest = (status: string) => isFinal(status) || status === 'requires_action';

const managers = new Set(['admin']);

/**
 * The Responses API over durable runs: submit a response as a run, render it while it runs (or is parked
 * on an approval), follow its events from a sequence number, cancel it, and answer its approvals.
 * A run's response is visible to the principal who created it (and tenant admins) until the turn is stored;
 * after that the stored response is read under the usual label scope. Runs, their events and approvals carry
 * the run's label (the request's, raised with the turn's high-water mark), and every read here runs under the
 * reader's ReadScope inside the query: a run or approval above the reader is a 404, never counted or listed.
 */
export class ResponseRuns {
  constructor(
    private readonly store: Store,
    private readonly runtime: Runtime,
    private readonly runs: RunService,
  ) {}

  /** Records the response as a queued run and wakes a worker; returns its id. */
  async submit(
    principal: Principal,
    request: CreateResponse,
    options: { mcpTools: unknown[]; background: boolean; held?: { reason: string } },
  ): Promise<string> {
    const id = `resp_${randomBytes(16).toString('hex')}`;
    // The run starts at the request's label (refused now, with a 403, when above the caller's clearance).
    const label = await requestLabel(this.runtime.labels, principal, request.label);
    const labelId = await this.runtime.labels.ensure(label);
    const input: ResponseRunInput = {
      principal: principal.subject,
      caller: principal,
      request,
      mcpTools: options.mcpTools,
      background: options.background,
      ...(options.held ? { held: options.held } : {}),
    };
    await this.runs.submit({
      id,
      tenantId: principal.tenantId,
      kind: RESPONSE_RUN,
      labelId,
      input: input as unknown as ResponseRunInput & Record<string, unknown>,
      conversationId: request.conversationId,
    });
    return id;
  }

  /** The run behind a response id, when the caller may see it (404 otherwise, like any other object). */
  async run(principal: Principal, id: string): Promise<RunRecord | undefined> {
    const run = await this.store.runs.get(await this.scope(principal), id);
    if (!run || run.kind !== RESPONSE_RUN) return undefined;
    const input = run.input as ResponseRunInput;
    if (input.principal !== principal.subject && !managers.has(principal.role)) return undefined;
    return run;
  }

  private scope(principal: Principal): Promise<ReadScope> {
    return this.runtime.labels.scope(principal);
  }

  /**
   * The response: the stored one once the turn was stored, otherwise rendered from the run. `submitted`
   * renders it as it was submitted (`queued`, no output): what the create call answers, even when a worker
   * on another node has already picked it up.
   */
  async view(principal: Principal, id: string, submitted = false): Promise<Record<string, unknown>> {
    const run = await this.run(principal, id);
    if (!run) return this.runtime.responses.get(principal, id);
    if (submitted) {
      const input = run.input as ResponseRunInput;
      return {
        ...(await this.runView(principal, { ...run, status: 'queued', error: null }, true)),
        tools: [...input.request.tools, ...input.mcpTools],
      };
    }
    const input = run.input as ResponseRunInput;
    let stored: Record<string, unknown> | undefined;
    try {
      stored = await this.runtime.responses.get(principal, id);
    } catch (error) {
      if (!(error instanceof EnclaveError && error.code === 'not_found')) throw error;
    }
    const tools = [...input.request.tools, ...input.mcpTools];
    if (stored) return { ...stored, background: input.background, tools };
    return { ...(await this.runView(principal, run)), tools };
  }

  private async runView(
    principal: Principal,
    run: RunRecord,
    submitted = false,
  ): Promise<Record<string, unknown>> {
    const input = run.input as ResponseRunInput;
    const r = input.request;
    let snapshot: Record<string, unknown> | undefined;
    const output: Record<string, unknown>[] = [];
    const events = submitted
      ? []
      : await this.store.runs.visibleEvents(await this.scope(principal), run.id, -1);
    for (const event of events) {
      const data = event.data as { response?: Record<string, unknown>; item?: Record<string, unknown> };
      if (data.response) snapshot = data.response;
      if (event.type === 'response.output_item.done' && data.item) output.push(data.item);
    }
    const base =
      snapshot ??
      renderResponse({
        id: run.id,
        createdAt: run.createdAt,
        status: 'queued',
        model: r.model,
        instructions: r.instructions,
        previousResponseId: r.previousResponseId,
        conversationId: r.conversationId,
        params: r.params,
        tools: [],
        metadata: r.metadata,
        usage: null,
        error: null,
        incompleteReason: null,
        output: [],
        label: r.label ?? 'UNCLASSIFIED',
      });
    const error = run.error as { code?: string; message?: string } | null;
    return {
      ...base,
      status: run.status,
      background: input.background,
      output,
      ...(error
        ? { error: { code: error.code ?? 'internal', message: error.message ?? 'The run failed.' } }
        : {}),
    };
  }

  /** Waits until the run finished or parked on an approval (or `signal` aborts). */
  async settle(principal: Principal, id: string, signal?: AbortSignal): Promise<RunRecord> {
    for (;;) {
      const run = await this.run(principal, id);
      if (!run) throw notFound('response', id);
      if (atRest(run.status) || signal?.aborted) return run;
      await this.runs.bus.next(id, 250, signal);
    }
  }

  /**
   * The run's stream events after `after` (-1 for all): the stored ones first, then live ones, until the
   * run is at rest. A run that ended without a final `response.*` event (refused before its turn began,
   * cancelled while queued) gets one rendered from its state, so every stream ends with the outcome.
   */
  async *follow(
    principal: Principal,
    id: string,
    after: number,
    signal?: AbortSignal,
  ): AsyncGenerator<{ type: string; data: unknown }> {
    let last = after;
    let ended = false;
    while (!signal?.aborted) {
      const run = await this.run(principal, id);
      if (!run) throw notFound('response', id);
      const events = await this.store.runs.visibleEvents(await this.scope(principal), id, last, 500);
      for (const event of events) {
        last = event.seq;
        ended = finalEvents.has(event.type);
        yield { type: event.type, data: event.data };
      }
      if (events.length === 500) continue;
      if (atRest(run.status)) {
        if (!ended) {
          const response = await this.view(principal, id);
          const type =
            run.status === 'requires_action' ? 'response.requires_action' : `response.${run.status}`;
          yield { type, data: { type, sequence_number: last + 1, response } };
        }
        return;
      }
      await this.runs.bus.next(id, 500, signal);
    }
  }

  /** The number of the last event recorded so far (-1 when none): a resumed stream starts after it. */
  async lastEvent(principal: Principal, id: string): Promise<number> {
    const events = await this.store.runs.visibleEvents(await this.scope(principal), id, -1);
    return events.at(-1)?.seq ?? -1;
  }

  async cancel(principal: Principal, id: string): Promise<Record<string, unknown>> {
    if (!(await this.run(principal, id))) throw notFound('response', id);
    await this.runs.cancel(principal.tenantId, id);
    // A running turn stops at its next safe point; give it a moment so the answer shows the outcome.
    const deadline = AbortSignal.timeout(5_000);
    await this.settle(principal, id, deadline);
    return this.view(principal, id);
  }

  /**
   * The client's answers (`mcp_approval_response` items): each decides its approval request (the first
   * answer wins) and requeues the parked run. Returns the id of the run they belong to.
   */
  async answer(principal: Principal, answers: readonly McpApprovalResponse[]): Promise<string> {
    let runId: string | undefined;
    const scope = await this.scope(principal);
    for (const a of answers) {
      const approval = await this.store.approvals.get(scope, a.approval_request_id);
      if (!approval) throw notFound('approval request', a.approval_request_id);
      if (runId !== undefined && approval.runId !== runId) {
        throw new EnclaveError('invalid_request', 'Answer the approval requests of one response at a time.', {
          param: 'input',
        });
      }
      runId = approval.runId;
      await this.decide(principal, a.approval_request_id, a.approve, a.reason ?? null);
    }
    if (runId === undefined) throw new EnclaveError('invalid_request', 'No approval responses given.');
    return runId;
  }

  /** One decision (the client's answer or a reviewer's, POST /v1/approvals/{id}). */
  async decide(
    principal: Principal,
    approvalId: string,
    approve: boolean,
    reason: string | null,
  ): Promise<void> {
    const scope = await this.scope(principal);
    const approval = await this.store.approvals.get(scope, approvalId);
    // Not readable under the reviewer's scope: a 404 like a missing one. An unscoped probe (nothing of it is
    // returned) tells the audit log whether it exists above the reviewer's clearance.
    if (!approval && (await this.store.approvals.byId(principal.tenantId, approvalId))) {
      await this.runtime.labels.decisions.access({
        principal,
        action: 'read',
        kind: 'approval',
        objectId: approvalId,
        allow: false,
        rule: 'mac.no_read_up',
        sessionLabel: this.runtime.labels.clearance(principal).label,
      });
      throw notFound('approval request', approvalId);
    }
    if (!approval) throw notFound('approval request', approvalId);
    await this.runs.decide({
      tenantId: principal.tenantId,
      scope,
      approvalId,
      approve,
      principal: principal.subject,
      role: principal.role,
      reason,
      label: principal.clearance,
    });
  }

  async listApprovals(principal: Principal, limit: number) {
    const reviewer = principal.role === 'reviewer' || principal.role === 'admin';
    // Label and requester filters both run inside the query: nothing hidden is read, counted or paged over.
    const pending = await this.store.approvals.listPending(await this.scope(principal), {
      limit,
      ...(reviewer ? {} : { requestedBy: principal.subject }),
    });
    const data = pending.map((a) => ({
      id: a.id,
      object: 'approval_request',
      response_id: a.runId,
      source: a.source,
      server_label: a.serverLabel,
      name: a.toolName,
      arguments: a.arguments,
      reason: a.reason,
      requested_by: a.requestedBy,
      status: a.status,
      created_at: Math.floor(a.createdAt / 1000),
    }));
    return { object: 'list', data, has_more: false };
  }
}

const finalEvents = new Set([
  'response.completed',
  'response.failed',
  'response.incomplete',
  'response.cancelled',
]);

/** The error a failed run ended with, as the EnclaveError a synchronous caller gets. */
export function runError(run: RunRecord): EnclaveError | undefined {
  const e = run.error as { code?: string; message?: string; param?: string | null } | null;
  if (run.status !== 'failed' || !e) return undefined;
  const code = e?.code && e.code in errorCodes ? (e.code as ErrorCode) : 'internal';
  return new EnclaveError(code, e?.message ?? 'The response failed on the server.', {
    param: e?.param ?? null,
  });
}
