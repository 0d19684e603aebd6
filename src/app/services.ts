import type { Config } from '../config/config.js';
import { packageVersion } from '../config/package-root.js';
import { ensureDataDir, readOrCreateSecret, serverSecretPath } from '../config/data-dir.js';
import { sqliteKeyFor } from '../crypto/index.js';
import { openStore } from '../store/open-store.js';
import type { Store } from '../store/store.js';
import { createLogger, type Logger } from '../telemetry/logger.js';
import { createMetrics, type Metrics } from '../telemetry/metrics.js';

/**
 * The composition root: every long-lived part of a running Enclave, built once from the config and
 * handed to the API and the CLI. Domain services are added here as fields; nothing below imports this.
 */
export interface Services {
  readonly version: string;
  readonly config: Config;
  readonly store: Store;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** Keys API-key hashes; lives in the data dir (0600). */
  readonly serverSecret: Buffer;
  /** Stops background work and closes the store, in reverse order of start. */
  close(): Promise<void>;
}

export interface ServiceOptions {
  logger?: Logger;
}

export async function createServices(config: Config, options: ServiceOptions = {}): Promise<Services> {
  ensureDataDir(config.dataDir);
  const serverSecret = readOrCreateSecret(serverSecretPath(config.dataDir));
  const logger = options.logger ?? createLogger(config.logLevel);
  // SQLite is encrypted as a whole file (key wrapped by the key provider); PostgreSQL relies on per-record
  // envelope encryption of content columns plus the server's own storage encryption.
  const sqliteKey = config.databaseUrl ? undefined : await sqliteKeyFor(config.dataDir);
  const store = await openStore({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, sqliteKey });
  const closers: (() => Promise<void>)[] = [() => store.close()];
  return {
    version: packageVersion(),
    config,
    store,
    logger,
    metrics: createMetrics(),
    serverSecret,
    async close() {
      for (const close of closers.reverse()) await close();
    },
  };
}
