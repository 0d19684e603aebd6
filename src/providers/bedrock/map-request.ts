import type {
  ContentBlock,
  ConverseStreamCommandInput,
  Message,
  SystemContentBlock,
  ToolConfiguration,
  ToolUseBlock,
} from '@aws-sdk/client-bedrock-runtime';
import { EnclaveError } from '../../errors/index.js';
import type { ModelItem, ModelRequest } from '../model-provider.js';

/** A JSON document as the SDK types it (named via the SDK, which does not re-export @smithy/types). */
type DocumentType = NonNullable<ToolUseBlock['input']>;

/**
 * Items → Converse. Converse has one top-level `system` list, so instructions and system/developer
 * messages go there; it wants strictly alternating roles, so neighbouring items of one role merge into
 * one message (parallel tool results must share one user message). Function calls become `toolUse`
 * blocks on the assistant side, their outputs `toolResult` blocks on the user side.
 */
export function toConverseMessages(
  instructions: string | undefined,
  items: readonly ModelItem[],
): { system: SystemContentBlock[]; messages: Message[] } {
  const system: SystemContentBlock[] = instructions ? [{ text: instructions }] : [];
  const messages: Message[] = [];
  const add = (role: 'user' | 'assistant', block: ContentBlock) => {
    const last = messages.at(-1);
    if (last?.role === role) (last.content ??= []).push(block);
    else messages.push({ role, content: [block] });
  };
  for (const item of items) {
    if (item.type === 'function_call') {
      add('assistant', { toolUse: { toolUseId: item.callId, name: item.name, input: parseArguments(item) } });
    } else if (item.type === 'function_call_output') {
      add('user', { toolResult: { toolUseId: item.callId, content: [{ text: item.output }] } });
    } else if (item.role === 'system' || item.role === 'developer') {
      system.push({ text: item.text });
    } else if (item.text) {
      // Converse rejects empty text blocks.
      add(item.role, { text: item.text });
    }
  }
  return { system, messages };
}

/** toolUse.input is a JSON document, so the arguments string must parse to an object. */
function parseArguments(item: Extract<ModelItem, { type: 'function_call' }>): DocumentType {
  try {
    const value: unknown = JSON.parse(item.arguments || '{}');
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as DocumentType;
  } catch {
    // falls through to the error below
  }
  throw new EnclaveError(
    'invalid_request',
    `The arguments of function call '${item.callId}' must be a JSON object to be sent to a Bedrock model.`,
  );
}

function toToolConfig(request: ModelRequest, hasToolHistory: boolean): ToolConfiguration | undefined {
  const tools = request.tools ?? [];
  // Converse has no tool_choice "none"; tools are left out instead, unless the history uses them, which
  // Converse only accepts when toolConfig is present.
  if (tools.length === 0 || (request.toolChoice === 'none' && !hasToolHistory)) return undefined;
  const config: ToolConfiguration = {
    tools: tools.map((tool) => ({
      toolSpec: {
        name: tool.name,
        inputSchema: { json: tool.parameters as DocumentType },
        ...(tool.description === undefined ? {} : { description: tool.description }),
        ...(tool.strict === undefined ? {} : { strict: tool.strict }),
      },
    })),
  };
  const choice = request.toolChoice;
  if (choice === 'required') config.toolChoice = { any: {} };
  else if (typeof choice === 'object') config.toolChoice = { tool: { name: choice.name } };
  else if (choice === 'auto') config.toolChoice = { auto: {} };
  return config;
}

export function toConverseInput(request: ModelRequest): ConverseStreamCommandInput {
  const { system, messages } = toConverseMessages(request.instructions, request.items);
  const input: ConverseStreamCommandInput = { modelId: request.model, messages };
  if (system.length > 0) input.system = system;
  const hasToolHistory = request.items.some((i) => i.type !== 'message');
  const toolConfig = toToolConfig(request, hasToolHistory);
  if (toolConfig) input.toolConfig = toolConfig;
  if (request.maxOutputTokens !== undefined || request.temperature !== undefined) {
    input.inferenceConfig = {};
    if (request.maxOutputTokens !== undefined) input.inferenceConfig.maxTokens = request.maxOutputTokens;
    if (request.temperature !== undefined) input.inferenceConfig.temperature = request.temperature;
  }
  return input;
}
