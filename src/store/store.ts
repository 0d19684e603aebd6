import type { Kysely } from 'kysely';
import type { Dialect } from './migrations/migration.js';
import { durableTransaction, type TransactionOptions } from './durable-transaction.js';
import { apiKeyRepo, type ApiKeyRepo } from './repos/api-key-repo.js';
import { approvalRepo, type ApprovalRepo } from './repos/approval-repo.js';
import { conversationLeaseRepo, type ConversationLeaseRepo } from './repos/conversation-lease-repo.js';
import { jobRepo, type JobRepo } from './repos/job-repo.js';
import { runRepo, type RunRepo } from './repos/run-repo.js';
import { runStepRepo, type RunStepRepo } from './repos/run-step-repo.js';
import { safetyRepo, type SafetyRepo } from './repos/safety-repo.js';
import { auditRepo, type AuditRepo } from './repos/audit-repo.js';
import { conversationRepo, type ConversationRepo } from './repos/conversation-repo.js';
import { itemRepo, type ItemRepo } from './repos/item-repo.js';
import { responseRepo, type ResponseRepo } from './repos/response-repo.js';
import { dataKeyRepo, type DataKeyRepo } from './repos/data-key-repo.js';
import { labelRepo, type LabelRepo } from './repos/label-repo.js';
import { labelDowngradeRepo, type LabelDowngradeRepo } from './repos/label-downgrade-repo.js';
import { memoryRepo, type MemoryRepo } from './repos/memory-repo.js';
import { tenantRepo, type TenantRepo } from './repos/tenant-repo.js';
import type { Database } from './schema.js';

/**
 * The storage contract: one repository per domain, the same on SQLite and PostgreSQL.
 * `transaction` runs `fn` against a Store bound to one database transaction (nested calls join it).
 */
export interface Store {
  readonly dialect: Dialect;
  readonly tenants: TenantRepo;
  readonly labels: LabelRepo;
  readonly apiKeys: ApiKeyRepo;
  readonly audit: AuditRepo;
  readonly memory: MemoryRepo;
  readonly dataKeys: DataKeyRepo;
  readonly conversations: ConversationRepo;
  readonly items: ItemRepo;
  readonly responses: ResponseRepo;
  /** Durable runs (src/runs): queue, runs, steps, approvals, conversation writer leases. */
  readonly jobs: JobRepo;
  readonly runs: RunRepo;
  readonly runSteps: RunStepRepo;
  readonly approvals: ApprovalRepo;
  readonly conversationLeases: ConversationLeaseRepo;
  /** Safety verdicts and the human review queue (src/safety/review). */
  readonly safety: SafetyRepo;
  /** Trusted-downgrade requests (src/runtime/label-downgrade.ts). */
  readonly labelDowngrades: LabelDowngradeRepo;
  transaction<T>(fn: (tx: Store) => Promise<T>, options?: TransactionOptions): Promise<T>;
  /** Closes connections; in-flight queries finish first. */
  close(): Promise<void>;
}

export function createStore(db: Kysely<Database>, dialect: Dialect, close: () => Promise<void>): Store {
  return bind(db, dialect, close, false);
}

function bind(
  db: Kysely<Database>,
  dialect: Dialect,
  close: () => Promise<void>,
  inTransaction: boolean,
): Store {
  const store: Store = {
    dialect,
    tenants: tenantRepo(db),
    labels: labelRepo(db),
    apiKeys: apiKeyRepo(db, dialect),
    audit: auditRepo(db, dialect),
    memory: memoryRepo(db),
    dataKeys: dataKeyRepo(db, dialect),
    conversations: conversationRepo(db, dialect),
    items: itemRepo(db, dialect),
    responses: responseRepo(db, dialect),
    jobs: jobRepo(db, dialect),
    runs: runRepo(db),
    runSteps: runStepRepo(db),
    approvals: approvalRepo(db),
    conversationLeases: conversationLeaseRepo(db, dialect),
    safety: safetyRepo(db, dialect),
    labelDowngrades: labelDowngradeRepo(db),
    // A nested call joins the outer transaction, whose commit decides durability.
    transaction: (fn, options) => {
      if (inTransaction) return fn(store);
      const run = (trx: Kysely<Database>) => fn(bind(trx, dialect, close, true));
      return options?.durable ? durableTransaction(db, dialect, run) : db.transaction().execute(run);
    },
    close,
  };
  return store;
}
