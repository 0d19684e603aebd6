import { isEnclaveError, type EnclaveError } from '../errors/index.js';
import { renderBanner } from '../labels/index.js';
import { countRequestTokens, countTokens } from '../providers/index.js';
import type { ResponseRecord, ResponseStatus } from '../store/repos/response-repo.js';
import { newItemId, toApiItem, toModelItem, type NewItem } from './items.js';
import { persistWrite } from './persist.js';
import { learnFrom } from './memory-hooks.js';
import { renderResponse, type ResponseView, type Usage } from './response-object.js';
import { EventSequence, type StreamEvent } from './response-events.js';
import { screenTurnOutput } from './safety-hooks.js';
import { stopsTurnUnstored, cancelledBy } from '../runs/run-interrupt.js';
import { toolItemOf, toolNewItem } from './tool-items.js';
import type { PreparedTurn, RuntimeDeps } from './turn.js';

/** The end of a turn: the response object, and the error that failed it (non-streaming callers throw it). */
export interface TurnResult {
  response: Record<string, unknown>;
  error: unknown;
}

/**
 * Streams a prepared turn as OpenAI's Responses events, then stores it — once, whole, labelled — and
 * returns the final response. A client that goes away (`signal`) ends the model turn; what was produced
 * is stored as `incomplete`. Callers must drain the generator even after a disconnect so the store happens.
 */
export async function* runTurn(
  deps: RuntimeDeps,
  turn: PreparedTurn,
  signal: AbortSignal | undefined,
): AsyncGenerator<StreamEvent, TurnResult> {
  const seq = new EventSequence();
  let banner = renderBanner(turn.label);
  const output: NewItem[] = [];
  const view: ResponseView = {
    id: turn.id,
    createdAt: turn.startedAt,
    status: 'in_progress',
    model: turn.request.model,
    instructions: turn.request.instructions,
    previousResponseId: turn.request.previousResponseId,
    conversationId: turn.request.conversationId,
    params: turn.request.params,
    tools: turn.request.tools,
    metadata: turn.request.metadata,
    usage: null,
    error: null,
    incompleteReason: null,
    output: [],
    label: banner,
  };
  const api = (item: NewItem) => toApiItem(item, banner);
  yield seq.responseState('response.created', renderResponse(view));
  yield seq.responseState('response.in_progress', renderResponse(view));

  // 7. Stream the model's answer, item by item.
  let message: { item: NewItem; text: string; index: number } | undefined;
  const closeMessage = function* (status: 'completed' | 'incomplete'): Generator<StreamEvent> {
    if (!message) return;
    const { item, text, index } = message;
    item.status = status;
    item.body = { content: [{ type: 'output_text', text }] };
    yield seq.textDone(item.id, index, text);
    yield seq.partDone(item.id, index, text);
    yield seq.itemDone(index, api(item));
    message = undefined;
  };
  let status: ResponseStatus = 'completed';
  let failure: unknown;
  try {
    // [safety out] every event passes the safety screen first (safety-output.ts): text only once checked.
    for await (const event of screenTurnOutput(deps, turn)) {
      const tool = toolItemOf(event);
      if (tool) {
        // [tools] an item a server-side tool produced (MCP, src/runs/mcp-turn-router.ts), stored in its place.
        yield* closeMessage('completed');
        output.push(toolNewItem(tool, turn.labelId));
        yield seq.itemAdded(output.length - 1, api(output[output.length - 1]!));
        yield seq.itemDone(output.length - 1, api(output[output.length - 1]!));
      } else if (event.type === 'text_delta') {
        if (!message) {
          const item: NewItem = {
            id: newItemId('message'),
            type: 'message',
            role: 'assistant',
            status: 'in_progress',
            callId: null,
            body: { content: [] },
            labelId: turn.labelId,
          };
          output.push(item);
          message = { item, text: '', index: output.length - 1 };
          yield seq.itemAdded(message.index, api(item));
          yield seq.partAdded(item.id, message.index);
        }
        message.text += event.text;
        yield seq.textDelta(message.item.id, message.index, event.text);
      } else if (event.type === 'function_call') {
        yield* closeMessage('completed');
        const item: NewItem = {
          id: newItemId('function_call'),
          type: 'function_call',
          role: null,
          status: 'in_progress',
          callId: event.callId,
          body: { name: event.name, arguments: '' },
          labelId: turn.labelId,
        };
        output.push(item);
        const index = output.length - 1;
        yield seq.itemAdded(index, api(item));
        yield seq.argumentsDelta(item.id, index, event.arguments);
        yield seq.argumentsDone(item.id, index, event.name, event.arguments);
        item.body = { name: event.name, arguments: event.arguments };
        item.status = 'completed';
        yield seq.itemDone(index, api(item));
      } else {
        yield* closeMessage(event.stopReason === 'length' ? 'incomplete' : 'completed');
        view.usage = usage(event.usage.inputTokens, event.usage.outputTokens);
        if (event.stopReason === 'length')
          [status, view.incompleteReason] = ['incomplete', 'max_output_tokens'];
        if (event.stopReason === 'content_filter')
          [status, view.incompleteReason] = ['incomplete', 'content_filter'];
      }
    }
  } catch (error) {
    // [runs] a durable run parked on an approval or lost its worker: nothing is stored, it resumes later
    // (what the turn recorded so far is committed first).
    if (stopsTurnUnstored(error, signal)) {
      if (turn.audit) await turn.audit.settleThenThrow(error);
      throw error;
    }
    if (signal?.aborted) {
      [status, view.incompleteReason] = cancelledBy(signal)
        ? ['cancelled', null]
        : ['incomplete', 'client_disconnected'];
    } else {
      status = 'failed';
      failure = error;
      view.error = isEnclaveError(error)
        ? { code: error.code, message: error.message }
        : { code: 'internal', message: 'The model turn failed; it has been logged.' };
    }
    yield* closeMessage('incomplete');
    for (const item of output) if (item.status === 'in_progress') item.status = 'incomplete';
    view.usage ??= estimatedUsage(turn, output);
  }
  view.status = status;
  // [memory tool] a server-side tool's output may have raised the turn's label while it streamed.
  banner = view.label = renderBanner(turn.label);
  view.output = output.map(api);

  // [safety out] done above, while streaming: a block fails the turn with safety_blocked before this point.

  // 8. Persist: the one labelled write of the turn. A turn whose model call could not be recorded is not
  // stored at all (fail-closed: nothing the audit log does not know of). The turn's held entries (model call,
  // output verdicts: pending-audit.ts) commit with the write decision and the turn's rows, or on their own when
  // nothing is stored; a failure to record fails the turn, unstored.
  const unrecorded = await persistRecorded(turn, failure, async () => {
    await persistWrite(deps.store, deps.labels, {
      principal: turn.principal,
      tenantId: turn.principal.tenantId,
      scope: turn.scope,
      response: record(turn, view, output),
      items: [...(turn.compaction ? [turn.compaction] : []), ...turn.inputs, ...output],
      label: turn.label,
      conversationId: status === 'completed' ? turn.request.conversationId : null,
      fence: turn.writer?.lease,
      memory: await learnFrom(deps.memory, turn, status),
      audit: turn.audit,
    });
  });
  if (unrecorded !== undefined) {
    [status, failure] = ['failed', unrecorded];
    view.status = status;
    view.error = { code: unrecorded.code, message: unrecorded.message };
  }
  // [audit] the model call was issued as its last event arrived (audit-model-call.ts); the write by persistWrite.

  const response = renderResponse(view);
  const final =
    status === 'completed'
      ? 'response.completed'
      : status === 'incomplete'
        ? 'response.incomplete'
        : 'response.failed';
  yield seq.responseState(final, response);
  return { response, error: failure };
}

const usage = (input: number, output: number): Usage => ({
  input_tokens: input,
  output_tokens: output,
  total_tokens: input + output,
});

/** When a turn ends early the provider reports nothing: count what was sent and what came back. */
function estimatedUsage(turn: PreparedTurn, output: readonly NewItem[]): Usage {
  const sent = [...(turn.compaction ? [turn.compaction] : turn.history.items), ...turn.inputs].map(
    toModelItem,
  );
  const input = countRequestTokens({ model: turn.request.model, items: sent });
  const produced = output.reduce((n, item) => n + countTokens(JSON.stringify(item.body)), 0);
  return usage(input, produced);
}

function record(turn: PreparedTurn, view: ResponseView, output: readonly NewItem[]): ResponseRecord {
  const now = Date.now();
  const contextIds = [...(turn.compaction ? [turn.compaction] : turn.history.items), ...turn.inputs].map(
    (i) => i.id,
  );
  return {
    id: turn.id,
    tenantId: turn.principal.tenantId,
    labelId: turn.labelId,
    status: view.status,
    model: turn.request.model,
    endpoint: turn.routed.endpoint.id,
    provider: turn.routed.endpoint.provider,
    principal: turn.principal.subject,
    previousResponseId: turn.request.previousResponseId,
    conversationId: turn.request.conversationId,
    inputItemIds: turn.inputs.map((i) => i.id),
    contextItemIds: contextIds,
    outputItemIds: output.map((i) => i.id),
    params: JSON.stringify(turn.request.params),
    instructions: turn.request.instructions,
    tools: JSON.stringify(turn.request.tools),
    metadata: JSON.stringify(turn.request.metadata),
    usage: view.usage && JSON.stringify(view.usage),
    error: view.error && JSON.stringify(view.error),
    incompleteReason: view.incompleteReason,
    latencyMs: now - turn.startedAt,
    createdAt: turn.startedAt,
    completedAt: now,
  };
}

const auditFailed = (error: unknown): error is EnclaveError =>
  isEnclaveError(error) && error.code === 'audit_unavailable';

/** Stores the turn (unless it must not be) after its pending entries commit; returns the audit failure, if any. */
async function persistRecorded(
  turn: PreparedTurn,
  failure: unknown,
  persist: () => Promise<void>,
): Promise<EnclaveError | undefined> {
  try {
    if (turn.request.params.store && !auditFailed(failure)) await persist();
    else await turn.audit?.settle();
    return undefined;
  } catch (error) {
    if (auditFailed(error)) return error;
    throw error;
  }
}
