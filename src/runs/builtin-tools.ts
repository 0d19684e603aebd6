import type { FunctionToolSpec, RouteOptions } from '../providers/index.js';
import type { RunContext } from './run-context.js';

/**
 * A tool Enclave itself implements (the memory tool, src/runtime/memory-tool.ts) and runs server-side
 * inside a durable run's tool loop (`McpTurnRouter`), beside the MCP servers' tools: the model sees it
 * as a function; its calls never reach the client.
 */
export interface BuiltinTool {
  readonly spec: FunctionToolSpec;
  /**
   * Runs one call: the effect is a checkpointed step of `ctx` (replayed, not repeated, on resume); the
   * answer is the text the model is shown as the call's output.
   */
  run(ctx: RunContext, argumentsJson: string): Promise<string>;
  /**
   * Route options for the model's next round: a tool whose output raised the turn's label re-checks
   * accreditation here, so its output reaches only endpoints accredited for the raised label.
   */
  routeOptions?(options: RouteOptions): RouteOptions;
}

/**
 * Where a turn offers built-in tools to its run's tool loop. The loop is built before the turn is
 * prepared; the tools are bound to the turn (its reader, ceiling and label) while it is prepared, so
 * the turn offers them here and the loop reads them when the model is opened. One host per execution.
 */
export class BuiltinToolHost {
  private readonly tools = new Map<string, BuiltinTool>();

  offer(tool: BuiltinTool): void {
    this.tools.set(tool.spec.name, tool);
  }

  get(name: string): BuiltinTool | undefined {
    return this.tools.get(name);
  }

  /** The specs to offer, minus names the client's own tools already use (the client's tool wins). */
  specs(taken: readonly FunctionToolSpec[] = []): FunctionToolSpec[] {
    const names = new Set(taken.map((t) => t.name));
    return [...this.tools.values()].map((t) => t.spec).filter((s) => !names.has(s.name));
  }

  routeOptions(options: RouteOptions): RouteOptions {
    let next = options;
    for (const tool of this.tools.values()) next = tool.routeOptions?.(next) ?? next;
    return next;
  }
}
