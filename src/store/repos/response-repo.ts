import type { Kysely, Selectable, Updateable } from 'kysely';
import type { ResponseTable } from '../conversation-schema.js';
import { guarded } from '../db-errors.js';
import { scopeLabelIds, type ReadScope } from '../read-scope.js';
import type { Database } from '../schema.js';

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

export function responseRepo(db: Kysely<Database>): ResponseRepo {
  return {
    async insert(r) {
      await guarded('response', () =>
        db
          .insertInto('responses')
          .values({
            id: r.id,
            tenant_id: r.tenantId,
            label_id: r.labelId,
            status: r.status,
            model: r.model,
            endpoint: r.endpoint,
            provider: r.provider,
            principal: r.principal,
            previous_response_id: r.previousResponseId,
            conversation_id: r.conversationId,
            input_item_ids: JSON.stringify(r.inputItemIds),
            context_item_ids: JSON.stringify(r.contextItemIds),
            output_item_ids: JSON.stringify(r.outputItemIds),
            params: r.params,
            instructions: r.instructions,
            tools: r.tools,
            metadata: r.metadata,
            usage: r.usage,
            error: r.error,
            incomplete_reason: r.incompleteReason,
            latency_ms: r.latencyMs,
            created_at: r.createdAt,
            completed_at: r.completedAt,
          })
          .execute(),
      );
    },
    async get(scope, id) {
      const row = await db
        .selectFrom('responses')
        .selectAll()
        .where('tenant_id', '=', scope.tenantId)
        .where('label_id', 'in', scopeLabelIds(scope))
        .where('id', '=', id)
        .executeTakeFirst();
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
