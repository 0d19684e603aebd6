import { EnclaveError } from '../errors/index.js';
import {
  countItemTokens,
  countRequestTokens,
  extractiveSummary,
  type EndpointCheck,
  type FunctionToolSpec,
  type ModelItem,
  type ModelRouter,
  type RoutedTurn,
  type TurnRequest,
  collectTurn,
} from '../providers/index.js';
import { itemText, newItemId, toModelItem, type NewItem } from './items.js';

const SUMMARY_INSTRUCTIONS =
  'Summarise the conversation so far for your own later use: keep every fact, decision, name, number, open ' +
  'question and tool result that may matter later. Write plain prose, no preamble.';

export interface CompactionPlan {
  router: ModelRouter;
  model: string;
  isAllowed: EndpointCheck;
  /** Compact when the history passes this many tokens. */
  threshold: number;
  /** Opens the summary call on an allowed endpoint of `model`, recording it (a `model.call` audit entry). */
  open: (request: TurnRequest) => Promise<RoutedTurn>;
}

/**
 * Server-side compaction: once the history a turn continues from passes the threshold, it is summarised into
 * one compaction item that replaces it in the model's context (the items stay stored). The summary comes from
 * the turn's own model through the same accredited route, or — when only the offline model may serve it —
 * from an extractive summary, which invents nothing.
 */
export async function compactHistory(
  history: readonly NewItem[],
  labelId: string,
  plan: CompactionPlan,
): Promise<NewItem | null> {
  if (history.length === 0) return null;
  if (upperBound(history.map(toModelItem), { tools: [] }) <= plan.threshold) return null;
  const tokens = history.reduce((sum, item) => sum + countItemTokens(toModelItem(item), plan.model), 0);
  if (tokens <= plan.threshold) return null;
  const serving = plan.router.registry.chain(plan.model).find((e) => plan.isAllowed(e) === true);
  let summary: string;
  if (!serving || serving.provider === 'local') {
    summary = extractiveSummary(history.map(describe), 12);
  } else {
    const routed = await plan.open({
      instructions: SUMMARY_INSTRUCTIONS,
      items: [...history.map(toModelItem), { type: 'message', role: 'user', text: 'Summarise now.' }],
    });
    const turn = await collectTurn(routed.events);
    summary = turn.text.trim() || extractiveSummary(history.map(describe), 12);
  }
  return {
    id: newItemId('compaction'),
    type: 'compaction',
    role: null,
    status: 'completed',
    callId: null,
    body: { summary, compacted_items: history.length },
    labelId,
  };
}

/** A line per item, so an extractive summary keeps who said what. */
function describe(item: NewItem): string {
  const text = itemText(item);
  if (item.type === 'function_call' && 'arguments' in item.body)
    return `Called ${item.body.name}(${item.body.arguments}).`;
  if (item.type === 'function_call_output' && 'output' in item.body)
    return `Tool result: ${item.body.output}`;
  return item.role ? `${item.role}: ${text}` : text;
}

export interface Fit {
  model: string;
  instructions?: string | undefined;
  tools: readonly FunctionToolSpec[];
  contextWindow: number;
  maxOutputTokens: number | undefined;
  truncation: 'auto' | 'disabled';
}

/**
 * Makes the context fit the model's window. `truncation: "auto"` drops the oldest items (a tool output never
 * survives without its call); `"disabled"` refuses an oversized context with a 400, like OpenAI.
 */
export function fitContext(items: ModelItem[], fit: Fit): ModelItem[] {
  const budget = fit.contextWindow - (fit.maxOutputTokens ?? 0);
  // A BPE token is at least one byte, so a context whose bytes (plus framing) fit needs no exact count.
  if (upperBound(items, fit) <= budget) return items;
  const size = (list: readonly ModelItem[]) =>
    countRequestTokens({
      model: fit.model,
      items: list,
      tools: fit.tools,
      ...(fit.instructions ? { instructions: fit.instructions } : {}),
    });
  let total = size(items);
  if (total <= budget) return items;
  if (fit.truncation === 'disabled') {
    throw new EnclaveError(
      'invalid_request',
      `The input (${total} tokens) exceeds the context window of this model (${budget} tokens left for input); shorten it, or send truncation: "auto" or context_management compaction.`,
      { param: 'input' },
    );
  }
  let start = 0;
  while (total > budget && start < items.length - 1) {
    const dropped = items[start];
    start++;
    if (dropped) total -= countItemTokens(dropped, fit.model);
    // An output whose call was dropped would be rejected upstream: drop it too.
    while (start < items.length - 1 && items[start]?.type === 'function_call_output') {
      const orphan = items[start];
      start++;
      if (orphan) total -= countItemTokens(orphan, fit.model);
    }
  }
  return items.slice(start);
}

/** Framing tokens per item and per request (see providers/tokens.ts), counted generously. */
const FRAMING = 8;

/** An upper bound of the token count without tokenising: one token per UTF-8 byte at most. */
function upperBound(
  items: readonly ModelItem[],
  fit: { instructions?: string | undefined; tools: readonly FunctionToolSpec[] },
): number {
  let bytes = FRAMING + Buffer.byteLength(fit.instructions ?? '');
  for (const item of items) {
    bytes += FRAMING;
    if (item.type === 'message') bytes += Buffer.byteLength(item.text);
    else if (item.type === 'function_call')
      bytes += Buffer.byteLength(item.name) + Buffer.byteLength(item.arguments);
    else bytes += Buffer.byteLength(item.output);
  }
  for (const tool of fit.tools)
    bytes +=
      Buffer.byteLength(`${tool.name} ${tool.description ?? ''} ${JSON.stringify(tool.parameters)}`) +
      FRAMING;
  return bytes;
}
