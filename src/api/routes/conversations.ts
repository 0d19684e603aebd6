import { z } from 'zod';
import { defineRoute, anyRole } from '../route.js';
import { inputItemSchema, labelHeader, metadataSchema, pageQuery, toInputItem } from '../schemas/items.js';

const idParams = z.object({ id: z.string().min(1) });
const itemParams = z.object({ id: z.string().min(1), item_id: z.string().min(1) });
const items = z.array(inputItemSchema).max(20, 'at most 20 items per request');

export const createConversationRoute = defineRoute({
  method: 'POST',
  url: '/v1/conversations',
  summary:
    'Create a conversation (labelled by Enclave-Classification or the caller default), optionally with items.',
  tag: 'conversations',
  auth: anyRole,
  body: z.object({ items: items.nullish(), metadata: metadataSchema.nullish() }),
  handle: async ({ body, principal, services, request }) =>
    services.runtime.conversations.create(principal, {
      items: (body.items ?? []).map(toInputItem),
      metadata: body.metadata ?? {},
      label: labelHeader(request.headers),
    }),
});

export const getConversationRoute = defineRoute({
  method: 'GET',
  url: '/v1/conversations/:id',
  summary: 'Retrieve a conversation.',
  tag: 'conversations',
  auth: anyRole,
  params: idParams,
  handle: async ({ params, principal, services }) => services.runtime.conversations.get(principal, params.id),
});

export const updateConversationRoute = defineRoute({
  method: 'POST',
  url: '/v1/conversations/:id',
  summary: "Update a conversation's metadata.",
  tag: 'conversations',
  auth: anyRole,
  params: idParams,
  body: z.object({ metadata: metadataSchema }),
  handle: async ({ params, body, principal, services }) =>
    services.runtime.conversations.update(principal, params.id, body.metadata),
});

export const deleteConversationRoute = defineRoute({
  method: 'DELETE',
  url: '/v1/conversations/:id',
  summary: 'Delete a conversation and all its items (unlike OpenAI, items are deleted too).',
  tag: 'conversations',
  auth: anyRole,
  params: idParams,
  handle: async ({ params, principal, services }) =>
    services.runtime.conversations.delete(principal, params.id),
});

export const listItemsRoute = defineRoute({
  method: 'GET',
  url: '/v1/conversations/:id/items',
  summary: "List a conversation's items (cursor `after`, `limit`, `order`).",
  tag: 'conversations',
  auth: anyRole,
  params: idParams,
  query: pageQuery,
  handle: async ({ params, query, principal, services }) =>
    services.runtime.conversations.listItems(principal, params.id, {
      after: query.after,
      limit: query.limit,
      order: query.order,
    }),
});

export const createItemsRoute = defineRoute({
  method: 'POST',
  url: '/v1/conversations/:id/items',
  summary:
    'Append items to a conversation (no write down: item labels must be within the conversation label).',
  tag: 'conversations',
  auth: anyRole,
  params: idParams,
  body: z.object({ items: items.min(1) }),
  handle: async ({ params, body, principal, services, request }) =>
    services.runtime.conversations.addItems(principal, params.id, {
      items: body.items.map(toInputItem),
      label: labelHeader(request.headers),
    }),
});

export const getItemRoute = defineRoute({
  method: 'GET',
  url: '/v1/conversations/:id/items/:item_id',
  summary: 'Retrieve one item of a conversation.',
  tag: 'conversations',
  auth: anyRole,
  params: itemParams,
  handle: async ({ params, principal, services }) =>
    services.runtime.conversations.getItem(principal, params.id, params.item_id),
});

export const deleteItemRoute = defineRoute({
  method: 'DELETE',
  url: '/v1/conversations/:id/items/:item_id',
  summary: 'Delete one item of a conversation; answers the conversation.',
  tag: 'conversations',
  auth: anyRole,
  params: itemParams,
  handle: async ({ params, principal, services }) =>
    services.runtime.conversations.deleteItem(principal, params.id, params.item_id),
});

export const conversationRoutes = [
  createConversationRoute,
  getConversationRoute,
  updateConversationRoute,
  deleteConversationRoute,
  listItemsRoute,
  createItemsRoute,
  getItemRoute,
  deleteItemRoute,
];
