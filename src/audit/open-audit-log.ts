import type { Config } from '../config/config.js';
import type { Store } from '../store/store.js';
import { auditConfig } from './audit-config.js';
import type { AuditLog } from './audit-log.js';
import { createAuditProver, type AuditProver } from './audit-prover.js';
import { createFileSink, createHttpSink, type AuditSink, type SinkLogger } from './audit-sink.js';
import { loadOrCreateSigningKey } from './signing-key.js';
import { createStoreAuditLog } from './store-audit-log.js';

export interface AuditServices {
  log: AuditLog;
  prover: AuditProver;
}

/** Builds the audit log, prover and sink from the `audit` config section (for the composition root and CLI). */
export function openAuditLog(config: Config, store: Store, logger?: SinkLogger): AuditServices {
  const settings = auditConfig(config);
  const signingKey = loadOrCreateSigningKey(settings.signingKeyFile);
  const sinkOptions = logger ? { logger } : {};
  let sink: AuditSink | undefined;
  if (settings.sink?.type === 'file') sink = createFileSink(settings.sink.path, sinkOptions);
  if (settings.sink?.type === 'http') {
    const { url, headers, timeoutMs } = settings.sink;
    sink = createHttpSink({
      url,
      ...(headers ? { headers } : {}),
      ...(timeoutMs ? { timeoutMs } : {}),
      ...sinkOptions,
    });
  }
  const log = createStoreAuditLog({
    store,
    signingKey,
    sink,
    checkpointIntervalMs: settings.checkpointIntervalMs,
    maxBatch: settings.maxBatch,
    durable: settings.durable,
    ...(logger ? { logger } : {}),
  });
  return { log, prover: createAuditProver(store.audit) };
}
