import { z } from 'zod';
import { configSection, type Config } from '../config/config.js';
import { defaultSigningKeyPath } from './signing-key.js';

/** The `audit` section of the config file. */
export const auditConfigSchema = z
  .object({
    /** Ed25519 PEM; default `<dataDir>/keys/audit-signing.pem`. `ENCLAVE_AUDIT_SIGNING_KEY` overrides. */
    signingKeyFile: z.string().min(1).optional(),
    /** Milliseconds between automatic checkpoints (0: only on demand). */
    checkpointIntervalMs: z.number().int().nonnegative().default(60_000),
    /** Most entries committed by one transaction. */
    maxBatch: z.number().int().min(1).max(100_000).default(4096),
    /** Acknowledge an append only once it survives a power cut (SQLite: WAL fsync per batch); false: a killed process. */
    durable: z.boolean().default(true),
    /**
     * Opt-in: entries about content may carry it sealed (`detail.contentSealed`, see audit-content.ts) beside its
     * hash. Off by default: the log then holds hashes only, never prompt text.
     */
    storeContent: z.boolean().default(false),
    sink: z
      .discriminatedUnion('type', [
        z.object({ type: z.literal('file'), path: z.string().min(1) }).strict(),
        z
          .object({
            type: z.literal('http'),
            url: z.url(),
            headers: z.record(z.string(), z.string()).optional(),
            timeoutMs: z.number().int().positive().optional(),
          })
          .strict(),
      ])
      .optional(),
  })
  .strict();

export type AuditConfig = z.output<typeof auditConfigSchema> & { signingKeyFile: string };

export function auditConfig(config: Config, env: NodeJS.ProcessEnv = process.env): AuditConfig {
  const section = configSection(config, 'audit', auditConfigSchema);
  const signingKeyFile =
    env.ENCLAVE_AUDIT_SIGNING_KEY || section.signingKeyFile || defaultSigningKeyPath(config.dataDir);
  return { ...section, signingKeyFile };
}
