import type { Kysely, Selectable, Updateable } from 'kysely';
import type { ResponseTable } from '../conversation-schema.js';
import { guarded } from '../db-errors.js';
import type { Dialect } from '../migrations/migration.js';
import { scopeLabelIds, type ReadScope } from '../read-scope.js';
import type { Database } from '../schema.js';
import { insertText, runText, slots, SqlTexts } from './fixed-sql.js';

export const responseStatuses = [
  'queued',
  'in_progress',
  'completed',
  'failed',
  'incomplete',
  'cancelled',
] as const;
export type ResponseStatus = (typeof responseStatuses)[number];

export interface ResponseRecord {
  id: string;
  tenantId: string;
  labelId: string;
  status: ResponseStatus;
  model: string;
  endpoint: string | null;
  provider: string | null;
  principal: string;
  previousResponseId: string | null;
  conversationId: string | null;
  inputItemIds: string[];
  contextItemIds: string[];
  outputItemIds: string[];
  /** JSON of request parameters (temperature, tool_choice, truncation, store, …). */
  params: string;
  instructions: string | null;
  /** JSON array of tool definitions. */
  tools: string;
  /** JSON object. */
  metadata: string;
  /** JSON usage object. */
  usage: string | null;
  /** JSON error object. */
  error: string | null;
  incompleteReason: string | null;
  latencyMs: number | null;
  createdAt: number;
  completedAt: number | null;
}

/** The fields a later state change may set (durable runs move queued → in_progress → a final state). */
export type ResponseUpdate = Partial<
  Pick<
    ResponseRecord,
    | 'status'
    | 'endpoint'
    | 'provider'
    | 'labelId'
    | 'contextItemIds'
    | 'outputItemIds'
    | 'usage'
    | 'error'
    | 'incompleteReason'
    | 'latencyMs'
    | 'completedAt'
    // Content columns are rewritten only when the label changes: they are sealed with the label in their AAD.
    | 'instructions'
    | 'tools'
    | 'metadata'
  >
>;

/** Content columns (instructions, tools, metadata, error) are sealed by src/crypto/sealed-response-repo.ts. */
export interface ResponseRepo {
  insert(record: ResponseRecord): Promise<void>;
  get(scope: ReadScope, id: string): Promise<ResponseRecord | undefined>;
  update(scope: ReadScope, id: string, change: ResponseUpdate): Promise<boolean>;
  /** Deletes the response and its own items that belong to no conversation; false when it is not visible. */
  delete(scope: ReadScope, id: string): Promise<boolean>;
  /** Ids of every response `principal` created in the tenant, whatever its label (user erasure). */
  idsByPrincipal(tenantId: string, principal: string): Promise<string[]>;
}

const toRecord = (row: Selectable<ResponseTable>): ResponseRecord => ({
  id: row.id,
  tenantId: row.tenant_id,
  labelId: row.label_id,
  status: row.status as ResponseStatus,
  model: row.model,
  endpoint: row.endpoint,
  provider: row.provider,
  principal: row.principal,
  previousResponseId: row.previous_response_id,
  conversationId: row.conversation_id,
  inputItemIds: JSON.parse(row.input_item_ids) as string[],
  contextItemIds: JSON.parse(row.context_item_ids) as string[],
  outputItemIds: JSON.parse(row.output_item_ids) as string[],
  params: row.params,
  instructions: row.instructions,
  tools: row.tools,
  metadata: row.metadata,
  usage: row.usage,
  error: row.error,
  incompleteReason: row.incomplete_reason,
  latencyMs: row.latency_ms === null ? null : Number(row.latency_ms),
  createdAt: Number(row.created_at),
  completedAt: row.completed_at === null ? null : Number(row.completed_at),
});

const columns = [
  'id',
  'tenant_id',
  'label_id',
  'status',
  'model',
  'endpoint',
  'provider',
  'principal',
  'previous_response_id',
  'conversation_id',
  'input_item_ids',
  'context_item_ids',
  'output_item_ids',
  'params',
  'instructions',
  'tools',
  'metadata',
  'usage',
  'error',
  'incomplete_reason',
  'latency_ms',
  'created_at',
  'completed_at',
] as const;

// Every turn writes one response and reads its predecessor: fixed texts (see fixed-sql.ts).
const texts = new SqlTexts();
const insertSql = (dialect: Dialect) => texts.get(dialect, 'insert', () => insertText('responses', columns));
const getSql = (dialect: Dialect, labels: number) =>
  texts.get(
    dialect,
    labels,
    () => `select * from "responses" where "tenant_id" = ? and "label_id" in (${slots(labels)}) and "id" = ?`,
  );

export function responseRepo(db: Kysely<Database>, dialect: Dialect): ResponseRepo {
  return {
    async insert(r) {
      const values: unknown[] = [
        r.id,
        r.tenantId,
        r.labelId,
        r.status,
        r.model,
        r.endpoint,
        r.provider,
        r.principal,
        r.previousResponseId,
        r.conversationId,
        JSON.stringify(r.inputItemIds),
        JSON.stringify(r.contextItemIds),
        JSON.stringify(r.outputItemIds),
        r.params,
        r.instructions,
        r.tools,
        r.metadata,
        r.usage,
        r.error,
        r.incompleteReason,
        r.latencyMs,
        r.createdAt,
        r.completedAt,
      ];
      await guarded('response', () => runText(db, insertSql(dialect), values));
    },
    async get(scope, id) {
      const labels = scopeLabelIds(scope);
      const { rows } = await runText<Selectable<ResponseTable>>(db, getSql(dialect, labels.length), [
        scope.tenantId,
        ...labels,
        id,
      ]);
      const row = rows[0];
      return row && toRecord(row);
    },
    async update(scope, id, c) {
      const set: Updateable<ResponseTable> = {};
      if (c.status !== undefined) set.status = c.status;
      if (c.endpoint !== undefined) set.endpoint = c.endpoint;
      if (c.provider !== undefined) set.provider = c.provider;
      if (c.labelId !== undefined) set.label_id = c.labelId;
      if (c.contextItemIds !== undefined) set.context_item_ids = JSON.stringify(c.contextItemIds);
      if (c.outputItemIds !== undefined) set.output_item_ids = JSON.stringify(c.outputItemIds);
      if (c.usage !== undefined) set.usage = c.usage;
      if (c.error !== undefined) set.error = c.error;
      if (c.incompleteReason !== undefined) set.incomplete_reason = c.incompleteReason;
      if (c.latencyMs !== undefined) set.latency_ms = c.latencyMs;
      if (c.completedAt !== undefined) set.completed_at = c.completedAt;
      if (c.instructions !== undefined) set.instructions = c.instructions;
      if (c.tools !== undefined) set.tools = c.tools;
      if (c.metadata !== undefined) set.metadata = c.metadata;
      if (Object.keys(set).length === 0) return (await this.get(scope, id)) !== undefined;
      const result = await db
        .updateTable('responses')
        .set(set)
        .where('tenant_id', '=', scope.tenantId)
        .where('label_id', 'in', scopeLabelIds(scope))
        .where('id', '=', id)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },
    async delete(scope, id) {
      const run = async (tx: Kysely<Database>): Promise<boolean> => {
        const result = await tx
          .deleteFrom('responses')
          .where('tenant_id', '=', scope.tenantId)
          .where('label_id', 'in', scopeLabelIds(scope))
          .where('id', '=', id)
          .executeTakeFirst();
        if (Number(result.numDeletedRows) === 0) return false;
        await tx
          .deleteFrom('items')
          .where('tenant_id', '=', scope.tenantId)
          .where('label_id', 'in', scopeLabelIds(scope))
          .where('response_id', '=', id)
          .where('conversation_id', 'is', null)
          .execute();
        return true;
      };
      return db.isTransaction ? run(db) : db.transaction().execute(run);
    },
    async idsByPrincipal(tenantId, principal) {
      const rows = await db
        .selectFrom('responses')
        .select('id')
        .where('tenant_id', '=', tenantId)
        .where('principal', '=', principal)
        .execute();
      return rows.map((r) => r.id);
    },
  };
}
