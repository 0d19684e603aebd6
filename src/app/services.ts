import type { Config } from '../config/config.js';
import { packageVersion } from '../config/package-root.js';
import { ensureDataDir, readOrCreateSecret, serverSecretPath } from '../config/data-dir.js';
import { auditContentSealer, openAuditLog, type AuditLog, type AuditProver } from '../audit/index.js';
import { createEncryption, sealContent, sqliteKeyFor, type Encryption } from '../crypto/index.js';
import { createRuntime, SafetyGate, safetyGateConfig, type Runtime } from '../runtime/index.js';
import { loadSafety, type Safety } from '../safety/index.js';
import { ModelRegistry, ModelRouter } from '../providers/index.js';
import { createMemory, type Memory } from './memory-wiring.js';
import { createRuns, type Runs } from './runs-wiring.js';
import { configSection } from '../config/config.js';
import { createOidcVerifier, oidcConfigSchema, type OidcVerifier } from '../identity/oidc.js';
import { createLabelScheme, labelSchemeConfigSchema, setLabelScheme } from '../labels/index.js';
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
  /** Tamper-evident log: every security decision is appended here; a failed append fails the operation. */
  readonly audit: AuditLog;
  readonly auditProver: AuditProver;
  /** OIDC bearer-token verifier, when the `oidc` config section names providers. */
  readonly oidc: OidcVerifier | undefined;
  /** Envelope encryption of content columns, key lifecycle and crypto-shredding. */
  readonly encryption: Encryption;
  /** The stateful runtime (responses, conversations, chat) over the model router and the labels. */
  readonly runtime: Runtime;
  /** The safety stack (model loaded once): the runtime screens every path with it; /v1/moderations answers from it. */
  readonly safety: Safety;
  /** Long-term memory (src/memory): service, config and its background extraction worker. */
  readonly memory: Memory;
  /** Durable runs (src/runs): background responses, MCP tools, approvals; the worker pool runs when started. */
  readonly runs: Runs;
  /** Stops background work and closes the store, in reverse order of start. */
  close(): Promise<void>;
}

export interface ServiceOptions {
  logger?: Logger;
  /**
   * Start this process's run workers (default true): they resume in-flight runs at once. One-shot CLI
   * commands pass false so they never pick up a run.
   */
  runWorkers?: boolean;
}

export async function createServices(config: Config, options: ServiceOptions = {}): Promise<Services> {
  ensureDataDir(config.dataDir);
  setLabelScheme(createLabelScheme(configSection(config, 'labels', labelSchemeConfigSchema)));
  const oidcConfig = configSection(config, 'oidc', oidcConfigSchema);
  const oidc = oidcConfig.providers.length > 0 ? createOidcVerifier(oidcConfig) : undefined;
  const serverSecret = readOrCreateSecret(serverSecretPath(config.dataDir));
  const logger = options.logger ?? createLogger(config.logLevel);
  // SQLite is encrypted as a whole file (key wrapped by the key provider); PostgreSQL relies on per-record
  // envelope encryption of content columns plus the server's own storage encryption.
  const sqliteKey = config.databaseUrl ? undefined : await sqliteKeyFor(config.dataDir);
  const plainStore = await openStore({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, sqliteKey });
  const closers: (() => Promise<void>)[] = [() => plainStore.close()];
  const { log: audit, prover: auditProver } = openAuditLog(config, plainStore, logger);
  closers.push(() => audit.close());
  const encryption = createEncryption({ repo: plainStore.dataKeys, dataDir: config.dataDir, audit });
  // Everything above the ground sees the sealing store: content columns of conversations, items and
  // responses are encrypted and decrypted inside it (docs/encryption.md), on both engines.
  const store = sealContent(plainStore, encryption);
  const safety = loadSafety(config);
  // Opt-in (`audit.storeContent`): model.call and safety.verdict entries carry their text sealed (audit-content.ts).
  const auditContent = auditContentSealer({ config, encryption });
  const safetyGate = new SafetyGate(safety, store, audit, safetyGateConfig(config), auditContent);
  const router = new ModelRouter(ModelRegistry.fromConfig(config));
  const memory = createMemory({ config, store, safety, router, audit, logger, worker: true });
  const memoryWorker = memory.worker;
  if (memoryWorker) closers.push(() => memoryWorker.stop());
  const runtime = createRuntime(config, store, router, { safety: safetyGate, audit, memory, auditContent });
  const runs = createRuns({ config, store, runtime, audit, logger });
  if (options.runWorkers !== false) {
    await runs.service.start();
    // Graceful drain: running turns get a few seconds to finish, the rest go back to the queue.
    closers.push(() => runs.service.stop(5_000));
  }
  return {
    version: packageVersion(),
    config,
    store,
    logger,
    metrics: createMetrics(),
    serverSecret,
    audit,
    auditProver,
    oidc,
    encryption,
    runtime,
    safety,
    memory,
    runs,
    async close() {
      for (const close of closers.reverse()) await close();
    },
  };
}
