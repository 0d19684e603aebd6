import type { Command } from 'commander';
import { createServices, type Services } from '../app/services.js';
import { loadConfig, type Config } from '../config/config.js';
import { createLogger } from '../telemetry/logger.js';

export interface GlobalOptions {
  dataDir?: string;
  databaseUrl?: string;
  port?: string;
  host?: string;
}

/** The config from the global flags of the root command (and the environment). */
export function configFrom(command: Command): Config {
  return loadConfig(command.optsWithGlobals<GlobalOptions>());
}

/**
 * Runs a CLI action with the full set of services, closing them afterwards. CLI commands log only
 * warnings, to stderr, so stdout stays machine-readable (JSONL, keys).
 */
export async function withServices<T>(
  command: Command,
  action: (services: Services) => Promise<T>,
): Promise<T> {
  const config = configFrom(command);
  const services = await createServices(config, { logger: createLogger('warn'), runWorkers: false });
  try {
    return await action(services);
  } finally {
    await services.close();
  }
}

/** Reads stdin as lines (for JSONL commands). */
export async function* stdinLines(): AsyncGenerator<string> {
  let buffer = '';
  for await (const chunk of process.stdin) {
    buffer += String(chunk);
    let newline: number;
    while ((newline = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, newline).trim();
      buffer = buffer.slice(newline + 1);
      if (line) yield line;
    }
  }
  if (buffer.trim()) yield buffer.trim();
}
