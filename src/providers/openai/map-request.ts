import type {
  ChatCompletionAssistantMessageParam,
  ChatCompletionCreateParamsStreaming,
  ChatCompletionMessageParam,
  ChatCompletionTool,
  ChatCompletionToolChoiceOption,
} from 'openai/resources/chat/completions';
import type { ModelItem, ModelRequest, ToolChoice } from '../model-provider.js';

export type MaxTokensField = 'max_tokens' | 'max_completion_tokens';

/**
 * Items → Chat Completions messages. `developer` is sent as `system` because most OpenAI-compatible
 * servers (vLLM, Ollama, llama.cpp) know only `system`, and OpenAI treats the two alike for chat models.
 * Consecutive function calls join one assistant message, as Chat Completions requires for parallel calls.
 */
export function toChatMessages(
  instructions: string | undefined,
  items: readonly ModelItem[],
): ChatCompletionMessageParam[] {
  const messages: ChatCompletionMessageParam[] = [];
  if (instructions) messages.push({ role: 'system', content: instructions });
  let openAssistant: ChatCompletionAssistantMessageParam | undefined;
  for (const item of items) {
    if (item.type === 'function_call') {
      const call = {
        id: item.callId,
        type: 'function' as const,
        function: { name: item.name, arguments: item.arguments },
      };
      if (!openAssistant) {
        openAssistant = { role: 'assistant', content: null, tool_calls: [] };
        messages.push(openAssistant);
      }
      (openAssistant.tool_calls ??= []).push(call);
      continue;
    }
    openAssistant = undefined;
    if (item.type === 'function_call_output') {
      messages.push({ role: 'tool', tool_call_id: item.callId, content: item.output });
    } else if (item.role === 'assistant') {
      // Kept open so a function call right after this text lands in the same assistant message.
      openAssistant = { role: 'assistant', content: item.text };
      messages.push(openAssistant);
    } else {
      messages.push({ role: item.role === 'user' ? 'user' : 'system', content: item.text });
    }
  }
  return messages;
}

function toToolChoice(choice: ToolChoice): ChatCompletionToolChoiceOption {
  return typeof choice === 'string' ? choice : { type: 'function', function: { name: choice.name } };
}

export function toChatParams(
  request: ModelRequest,
  options: { maxTokensField: MaxTokensField; includeUsage: boolean },
): ChatCompletionCreateParamsStreaming {
  const params: ChatCompletionCreateParamsStreaming = {
    model: request.model,
    messages: toChatMessages(request.instructions, request.items),
    stream: true,
  };
  if (options.includeUsage) params.stream_options = { include_usage: true };
  if (request.tools && request.tools.length > 0) {
    params.tools = request.tools.map((tool): ChatCompletionTool => ({
      type: 'function',
      function: {
        name: tool.name,
        parameters: tool.parameters,
        ...(tool.description === undefined ? {} : { description: tool.description }),
        ...(tool.strict === undefined ? {} : { strict: tool.strict }),
      },
    }));
    if (request.toolChoice !== undefined) params.tool_choice = toToolChoice(request.toolChoice);
  }
  if (request.temperature !== undefined) params.temperature = request.temperature;
  if (request.maxOutputTokens !== undefined) params[options.maxTokensField] = request.maxOutputTokens;
  return params;
}
