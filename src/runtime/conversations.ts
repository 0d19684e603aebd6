import type { EnclaveError } from '../errors/index.js';
import { notFound } from '../errors/index.js';
import type { Principal } from '../identity/principal.js';
import { UNCLASSIFIED, renderBanner } from '../labels/index.js';
import type { ConversationRecord, PageRequest } from '../store/repos/conversation-repo.js';
import type { Store } from '../store/store.js';
import { loadItem, newId, toApiItem, type InputItem, type NewItem } from './items.js';
import type { AccessAction } from './audit-decisions.js';
import type { LabelAccess } from './label-access.js';
import type { MemoryRuntime } from './memory-hooks.js';
import { labelInputs, requestLabel } from './label-gate.js';
import { persistWrite, requireNoWriteDown } from './persist.js';

export interface ConversationDeps {
  store: Store;
  labels: LabelAccess;
  /** Long-term memory: deleting an item forgets what memory learned from it (docs/memory.md). */
  memory?: MemoryRuntime | undefined;
}

/** A list page in OpenAI's shape. */
export interface ListPage {
  object: 'list';
  data: Record<string, unknown>[];
  first_id: string | null;
  last_id: string | null;
  has_more: boolean;
}

export const listPage = (data: Record<string, unknown>[], hasMore: boolean): ListPage => ({
  object: 'list',
  data,
  first_id: (data[0]?.id as string | undefined) ?? null,
  last_id: (data[data.length - 1]?.id as string | undefined) ?? null,
  has_more: hasMore,
});

/**
 * The Conversations API. A conversation is a labelled container: its label (the request label at creation)
 * is the ceiling of what may be written into it, and its high-water mark records the lub of what was.
 * Deleting one deletes its items (OpenAI's hosted API keeps them; see docs/api.md).
 */
export class Conversations {
  constructor(private readonly deps: ConversationDeps) {}

  async create(
    principal: Principal,
    input: { items: InputItem[]; metadata: Record<string, string>; label?: string | undefined },
  ) {
    const { store, labels } = this.deps;
    const container = await requestLabel(labels, principal, input.label);
    const labelled = await labelInputs(labels, principal, container, input.items, 'items');
    // Items default to the container's label, so the container dominates them unless an item said otherwise.
    const itemsLabel = input.items.length ? labelled.label : UNCLASSIFIED;
    requireNoWriteDown(container, itemsLabel);
    const now = Date.now();
    const record: ConversationRecord = {
      id: newId('conv'),
      tenantId: principal.tenantId,
      labelId: await labels.ensure(container),
      highWaterLabelId: await labels.ensure(UNCLASSIFIED),
      metadata: JSON.stringify(input.metadata),
      principal: principal.subject,
      createdAt: now,
      updatedAt: now,
    };
    await store.conversations.insert(record);
    const scope = await labels.scope(principal);
    if (labelled.items.length) {
      await persistWrite(
        store,
        labels,
        {
          principal,
          tenantId: principal.tenantId,
          scope,
          items: labelled.items,
          label: itemsLabel,
          conversationId: record.id,
        },
        now,
      );
    }
    return this.render(record);
  }

  async get(principal: Principal, id: string) {
    return this.render(await this.find(principal, id));
  }

  async update(principal: Principal, id: string, metadata: Record<string, string>) {
    const { scope } = await this.read(principal, id, 'write');
    if (
      !(await this.deps.store.conversations.updateMetadata(scope, id, JSON.stringify(metadata), Date.now()))
    )
      throw missing(id);
    return this.get(principal, id);
  }

  async delete(principal: Principal, id: string) {
    const { scope } = await this.read(principal, id, 'delete');
    if (!(await this.deps.store.conversations.delete(scope, id))) throw missing(id);
    return { id, object: 'conversation.deleted', deleted: true };
  }

  async listItems(principal: Principal, id: string, page: PageRequest): Promise<ListPage> {
    const { scope } = await this.read(principal, id, 'list');
    const result = await this.deps.store.items.listConversation(scope, id, page);
    const data = await Promise.all(result.data.map((r) => this.renderItem(loadItem(r))));
    return listPage(data, result.hasMore);
  }

  /** Appends items; they are labelled like turn inputs and must respect the container's label. */
  async addItems(
    principal: Principal,
    id: string,
    input: { items: InputItem[]; label?: string | undefined },
  ): Promise<ListPage> {
    const { store, labels } = this.deps;
    const { scope } = await this.read(principal, id, 'write');
    // Unlabelled items take the caller's default (system-high), never the container's label: omitting a
    // label must not be a way to write down.
    const request = await requestLabel(labels, principal, input.label);
    const labelled = await labelInputs(labels, principal, request, input.items, 'items');
    await persistWrite(store, labels, {
      principal,
      tenantId: principal.tenantId,
      scope,
      items: labelled.items,
      label: labelled.label,
      conversationId: id,
    });
    return listPage(await Promise.all(labelled.items.map((item) => this.renderItem(item))), false);
  }

  async getItem(principal: Principal, id: string, itemId: string) {
    await this.read(principal, id, 'read');
    const { record } = await this.deps.labels.read(
      principal,
      { kind: 'item', id: itemId },
      async (scope) => {
        const found = await this.deps.store.items.get(scope, itemId);
        return found?.conversationId === id ? found : undefined;
      },
      () => notFound('item', itemId),
    );
    return this.renderItem(loadItem(record));
  }

  async deleteItem(principal: Principal, id: string, itemId: string) {
    const { record: conversation, scope } = await this.read(principal, id, 'delete');
    await this.deps.labels.read(
      principal,
      { kind: 'item', id: itemId, action: 'delete' },
      async (s) => {
        const found = await this.deps.store.items.get(s, itemId);
        return found?.conversationId === id ? found : undefined;
      },
      () => notFound('item', itemId),
    );
    // Memory first (its receipt in the audit log), then the item: a failed forget deletes nothing, and a
    // turn memory keeps must never outlive its item. `forget` writes no receipt when nothing was learned.
    await this.deps.memory?.service.forget({
      by: 'item',
      tenantId: scope.tenantId,
      conversationId: id,
      itemId,
    });
    if (!(await this.deps.store.items.delete(scope, id, itemId))) throw notFound('item', itemId);
    return this.render(conversation);
  }

  private async find(principal: Principal, id: string): Promise<ConversationRecord> {
    return (await this.read(principal, id, 'read')).record;
  }

  /** Every access to a conversation goes through here: scoped, 404 when invisible, recorded either way. */
  private read(principal: Principal, id: string, action: AccessAction) {
    return this.deps.labels.read(
      principal,
      { kind: 'conversation', id, action },
      (scope) => this.deps.store.conversations.get(scope, id),
      () => missing(id),
    );
  }

  private async render(c: ConversationRecord) {
    const { labels } = this.deps;
    return {
      id: c.id,
      object: 'conversation',
      created_at: Math.floor(c.createdAt / 1000),
      metadata: JSON.parse(c.metadata) as Record<string, string>,
      label: renderBanner(await labels.label(c.labelId)),
      high_water_label: renderBanner(await labels.label(c.highWaterLabelId)),
    };
  }

  private async renderItem(item: NewItem) {
    return toApiItem(item, renderBanner(await this.deps.labels.label(item.labelId)));
  }
}

const missing = (id: string): EnclaveError => notFound('conversation', id);
