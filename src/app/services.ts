import type { Config } from '../config/config.js';
import { packageVersion } from '../config/package-root.js';
import { ensureDataDir, readOrCreateSecret, serverSecretPath } from '../config/data-dir.js';
import { openAuditLog, type AuditLog, type AuditProver } from '../audit/index.js';
import { createEncryption, sqliteKeyFor, type Encryption } from '../crypto/index.js';
import { createRuntime, type Runtime } from '../runtime/index.js';
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
  /** Stops background work and closes the store, in reverse order of start. */
  close(): Promise<void>;
}

export interface ServiceOptions {
  logger?: Logger;
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
  const store = await openStore({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, sqliteKey });
  const closers: (() => Promise<void>)[] = [() => store.close()];
  const { log: audit, prover: auditProver } = openAuditLog(config, store, logger);
  closers.push(() => audit.close());
  const encryption = createEncryption({ repo: store.dataKeys, dataDir: config.dataDir, audit });
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
    runtime: createRuntime(config, store),
    async close() {
      for (const close of closers.reverse()) await close();
    },
  };
}
