import { notFound } from '../errors/index.js';
import type { AuthEntry } from '../identity/auth-entry.js';
import type { Principal } from '../identity/principal.js';
import { renderBanner } from '../labels/index.js';
import type { ResponseRecord } from '../store/repos/response-repo.js';
import type { AccessAction } from './audit-decisions.js';
import { listPage, type ListPage } from './conversations.js';
import { loadItem, toApiItem } from './items.js';
import { renderResponse, type ResponseParams, type ResponseView, type Usage } from './response-object.js';
import { prepareSerialized, runSerialized } from './conversation-turn.js';
import type { CreateResponse, PreparedTurn, RuntimeDeps } from './turn.js';

/** The Responses API over the turn runtime: create (prepare + run), read, delete, input items. */
export class Responses {
  constructor(private readonly deps: RuntimeDeps) {}

  /** Every gate and the model's first event; throws 4xx/5xx before anything is streamed. */
  prepare(
    principal: Principal,
    request: CreateResponse,
    signal?: AbortSignal,
    /** The request's `auth.ok` entry, unrecorded: the turn commits it with its first audit commit. */
    auth?: AuthEntry,
  ): Promise<PreparedTurn> {
    // Under the conversation's single-writer lease (conversation-turn.ts): racing turns serialize.
    return prepareSerialized(this.deps, principal, request, signal, { auth });
  }

  run(turn: PreparedTurn, signal?: AbortSignal) {
    return runSerialized(this.deps, turn, signal);
  }

  async get(principal: Principal, id: string): Promise<Record<string, unknown>> {
    const { record, scope } = await this.find(principal, id, 'read');
    const byId = new Map(
      (await this.deps.store.items.byIds(scope, record.outputItemIds)).map((r) => [r.id, loadItem(r)]),
    );
    const banner = renderBanner(await this.deps.labels.label(record.labelId));
    const output = record.outputItemIds.flatMap((itemId) => {
      const item = byId.get(itemId);
      return item ? [toApiItem(item, banner)] : [];
    });
    return renderResponse(view(record, output, banner));
  }

  async delete(principal: Principal, id: string) {
    const { scope } = await this.find(principal, id, 'delete');
    // One call, outside any transaction: the store crypto-shreds the response's key (receipt in the audit
    // log) before it deletes the row and its detached items (src/crypto/sealed-store.ts).
    if (!(await this.deps.store.responses.delete(scope, id))) throw notFound('response', id);
    return { id, object: 'response', deleted: true };
  }

  /** The items the model saw for this response (history and inputs), paged like OpenAI (default newest first). */
  async inputItems(
    principal: Principal,
    id: string,
    page: { after?: string | undefined; limit: number; order: 'asc' | 'desc' },
  ): Promise<ListPage> {
    const { record, scope } = await this.find(principal, id, 'list');
    // Page over the items this reader can see, never over the id list: a hidden item (downgraded response,
    // higher history) must change neither the page, nor has_more, nor where a cursor lands.
    const byId = new Map(
      (await this.deps.store.items.byIds(scope, record.contextItemIds)).map((r) => [r.id, loadItem(r)]),
    );
    let ids = record.contextItemIds.filter((itemId) => byId.has(itemId));
    if (page.order === 'desc') ids.reverse();
    if (page.after !== undefined) {
      const at = ids.indexOf(page.after);
      ids = at === -1 ? [] : ids.slice(at + 1);
    }
    const visible = ids.slice(0, page.limit + 1).flatMap((itemId) => byId.get(itemId) ?? []);
    const data = await Promise.all(
      visible
        .slice(0, page.limit)
        .map(async (item) => toApiItem(item, renderBanner(await this.deps.labels.label(item.labelId)))),
    );
    return listPage(data, ids.length > page.limit);
  }

  /** Every access to a response goes through here: scoped, 404 when invisible, recorded either way. */
  private find(principal: Principal, id: string, action: AccessAction) {
    return this.deps.labels.read(
      principal,
      { kind: 'response', id, action },
      (scope) => this.deps.store.responses.get(scope, id),
      () => notFound('response', id),
    );
  }
}

function view(r: ResponseRecord, output: Record<string, unknown>[], label: string): ResponseView {
  return {
    id: r.id,
    createdAt: r.createdAt,
    status: r.status,
    model: r.model,
    instructions: r.instructions,
    previousResponseId: r.previousResponseId,
    conversationId: r.conversationId,
    params: JSON.parse(r.params) as ResponseParams,
    tools: JSON.parse(r.tools) as unknown[],
    metadata: JSON.parse(r.metadata) as Record<string, string>,
    usage: r.usage === null ? null : (JSON.parse(r.usage) as Usage),
    error: r.error === null ? null : (JSON.parse(r.error) as { code: string; message: string }),
    incompleteReason: r.incompleteReason,
    output,
    label,
  };
}
