import type { AuthEntry } from '../identity/auth-entry.js';
import type { Principal } from '../identity/principal.js';
import { renderBanner, type Label } from '../labels/index.js';
import {
  collectTurn,
  type FunctionToolSpec,
  type ModelItem,
  type RoutedTurn,
  type ToolChoice,
} from '../providers/index.js';
import { abandon, openAudited } from './audit-model-call.js';
import { newId } from './items.js';
import { requestLabel } from './label-gate.js';
import type { PendingAudit } from './pending-audit.js';
import { safetyInChat } from './safety-hooks.js';
import { screenOutput } from './safety-output.js';
import type { RuntimeDeps } from './turn.js';

/** POST /v1/chat/completions, parsed into the provider-neutral vocabulary at the edge. */
export interface ChatRequest {
  model: string;
  instructions: string | undefined;
  items: ModelItem[];
  tools: FunctionToolSpec[];
  toolChoice: ToolChoice | undefined;
  temperature: number | undefined;
  maxTokens: number | undefined;
  label: string | undefined;
}

export interface PreparedChat {
  id: string;
  created: number;
  model: string;
  label: Label;
  routed: RoutedTurn;
  /** [audit] Entries still held (the model call, the output verdicts): settled before the answer is finished. */
  audit: PendingAudit;
}

/**
 * Chat Completions: a stateless turn through the same gates as a response (request label within the
 * caller's clearance, accredited endpoints only). Nothing is stored (`store` is not supported here).
 * [audit] Its entries are held and commit together as a Responses turn's do (pending-audit.ts): the request's
 * `auth.ok` (`auth`) and the input verdicts before the model is contacted, durable before the first byte of an
 * answer or a refusal; the model call and the output verdicts before the answer is finished (complete/streamChat).
 */
export async function prepareChat(
  deps: RuntimeDeps,
  principal: Principal,
  request: ChatRequest,
  signal?: AbortSignal,
  options: { auth?: AuthEntry | undefined } = {},
): Promise<PreparedChat> {
  const pending = deps.labels.decisions.pending(deps.store);
  options.auth?.takeInto((entry) => pending.hold(entry));
  return prepareAudited(deps, principal, request, signal, pending).catch((error: unknown) =>
    pending.settleThenThrow(error),
  );
}

async function prepareAudited(
  deps: RuntimeDeps,
  principal: Principal,
  request: ChatRequest,
  signal: AbortSignal | undefined,
  pending: PendingAudit,
): Promise<PreparedChat> {
  const startedAt = Date.now();
  const id = newId('chatcmpl');
  const label = await requestLabel(deps.labels, principal, request.label);
  // [safety in] every message and tool result is classified before the model call (403 on block/escalation).
  const safe = await safetyInChat(deps, principal, label, request, pending);
  const sent = {
    items: safe.items,
    ...(safe.instructions ? { instructions: safe.instructions } : {}),
    ...(request.tools.length ? { tools: request.tools } : {}),
    ...(request.toolChoice ? { toolChoice: request.toolChoice } : {}),
    ...(request.temperature !== undefined ? { temperature: request.temperature } : {}),
    ...(request.maxTokens !== undefined ? { maxOutputTokens: request.maxTokens } : {}),
  };
  // [audit] auth and input verdicts commit before the model sees anything; their fsync runs while it starts.
  await pending.commit();
  // [audit] accredited endpoints only; the routing refusal and the model call are recorded (fail-closed).
  const routed = await openAudited(
    deps.labels.decisions,
    { principal, objectId: id, label, startedAt, pending },
    (isAllowed) => deps.router.open(request.model, sent, { isAllowed, signal }),
    sent,
  );
  // [audit] durable before the first byte of an answer (or a refusal) goes out.
  await pending.settle().catch(async (error: unknown) => {
    await abandon(routed);
    throw error;
  });
  return {
    id,
    created: Math.floor(Date.now() / 1000),
    model: request.model,
    label,
    // [safety out] text reaches the client only once checked; a block ends the answer with safety_blocked.
    routed: { ...routed, events: screenOutput(deps.safety, safe.context, id, routed.events) },
    audit: pending,
  };
}

const finishReason = (stop: string): string =>
  stop === 'tool_calls'
    ? 'tool_calls'
    : stop === 'length'
      ? 'length'
      : stop === 'content_filter'
        ? 'content_filter'
        : 'stop';

/** The whole answer as one ChatCompletion object. */
export async function completeChat(chat: PreparedChat): Promise<Record<string, unknown>> {
  // [safety out] applied to chat.routed.events in prepareChat. [audit] the model call and output verdicts are
  // durable before the answer (or the refusal) goes out; a failure to record them answers 503 instead.
  const turn = await collectTurn(chat.routed.events).catch((error: unknown) =>
    chat.audit.settleThenThrow(error),
  );
  await chat.audit.settle();
  const toolCalls = turn.functionCalls.map((c) => ({
    id: c.callId,
    type: 'function',
    function: { name: c.name, arguments: c.arguments },
  }));
  return {
    id: chat.id,
    object: 'chat.completion',
    created: chat.created,
    model: chat.model,
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          content: turn.text.length || !toolCalls.length ? turn.text : null,
          refusal: null,
          ...(toolCalls.length ? { tool_calls: toolCalls } : {}),
        },
        finish_reason: finishReason(turn.stopReason),
        logprobs: null,
      },
    ],
    usage: {
      prompt_tokens: turn.usage.inputTokens,
      completion_tokens: turn.usage.outputTokens,
      total_tokens: turn.usage.inputTokens + turn.usage.outputTokens,
    },
    label: renderBanner(chat.label),
  };
}

/** The answer as ChatCompletionChunk objects (the API writes each as `data: …`, then `data: [DONE]`). */
export async function* streamChat(
  chat: PreparedChat,
  includeUsage: boolean,
): AsyncGenerator<Record<string, unknown>> {
  const chunk = (delta: Record<string, unknown>, finish: string | null) => ({
    id: chat.id,
    object: 'chat.completion.chunk',
    created: chat.created,
    model: chat.model,
    choices: [{ index: 0, delta, finish_reason: finish, logprobs: null }],
  });
  yield chunk({ role: 'assistant', content: '' }, null);
  let calls = 0;
  try {
    for await (const event of chat.routed.events) {
      if (event.type === 'text_delta') yield chunk({ content: event.text }, null);
      else if (event.type === 'function_call') {
        yield chunk(
          {
            tool_calls: [
              {
                index: calls++,
                id: event.callId,
                type: 'function',
                function: { name: event.name, arguments: event.arguments },
              },
            ],
          },
          null,
        );
      } else {
        // [audit] the model call and output verdicts are durable before the chunk that finishes the answer; if
        // they cannot be, the stream ends with an error instead (the caller writes it in-band).
        await chat.audit.settle();
        yield chunk({}, finishReason(event.stopReason));
        if (includeUsage) {
          const { inputTokens, outputTokens } = event.usage;
          yield {
            ...chunk({}, null),
            choices: [],
            usage: {
              prompt_tokens: inputTokens,
              completion_tokens: outputTokens,
              total_tokens: inputTokens + outputTokens,
            },
          };
        }
      }
    }
  } finally {
    // However the answer ends — finished, refused or failed (a failed settle then wins over that error), or a
    // reader that stopped early (client gone) — what it recorded is durable before anything else goes out.
    await chat.audit.settle();
  }
}
