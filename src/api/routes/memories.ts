import { z } from 'zod';
import type { Services } from '../../app/services.js';
import { memoryKinds } from '../../memory/index.js';
import { Memories } from '../../runtime/memories.js';
import { defineRoute } from '../route.js';
import { labelHeader } from '../schemas/items.js';

/** Users act on their own memories; admins on any user's of their tenant. */
const memoryRoles = ['user', 'admin'] as const;
const idParams = z.object({ id: z.string().min(1).max(200) });
const owner = {
  /** Admins only: whose memories (default: the caller's own). */
  user: z.string().min(1).max(300).optional(),
  /** The agent axis: the agent's memories besides the user's own and shared ones. */
  agent: z.string().min(1).max(200).optional(),
};
const flag = z
  .union([z.boolean(), z.enum(['true', 'false'])])
  .transform((v) => v === true || v === 'true')
  .default(false);
const writeBody = z
  .object({
    text: z.string().trim().min(1).max(4000),
    kind: z.enum(memoryKinds).exclude(['episode', 'summary']).optional(),
    subject: z.string().trim().min(1).max(200).optional(),
    attribute: z.string().trim().min(1).max(200).optional(),
    value: z.string().trim().min(1).max(500).optional(),
    /** Unix seconds the fact starts to hold (default: now). */
    valid_from: z.number().int().nonnegative().optional(),
    ...owner,
  })
  .strict();

const memories = (services: Services) =>
  new Memories({ memory: services.memory, labels: services.runtime.labels, store: services.store });
const toInput = (body: z.output<typeof writeBody>, label: string | undefined) => ({
  text: body.text,
  kind: body.kind,
  subject: body.subject,
  attribute: body.attribute,
  value: body.value,
  validFrom: body.valid_from === undefined ? undefined : body.valid_from * 1000,
  label,
});

export const listMemoriesRoute = defineRoute({
  method: 'GET',
  url: '/v1/memories',
  summary: 'List memories (newest first); `include_superseded` adds history.',
  tag: 'memories',
  auth: memoryRoles,
  query: z.object({
    ...owner,
    limit: z.coerce.number().int().min(1).max(100).default(20),
    include_superseded: flag,
  }),
  handle: ({ query, principal, services }) =>
    memories(services).list(principal, {
      user: query.user,
      agent: query.agent,
      limit: query.limit,
      includeSuperseded: query.include_superseded,
    }),
});

export const searchMemoriesRoute = defineRoute({
  method: 'POST',
  url: '/v1/memories/search',
  summary:
    'Hybrid recall over memories the caller may read; superseded records only with include_superseded.',
  tag: 'memories',
  auth: memoryRoles,
  body: z
    .object({
      query: z.string().trim().min(1).max(2000),
      k: z.number().int().min(1).max(50).default(10),
      include_superseded: z.boolean().default(false),
      ...owner,
    })
    .strict(),
  handle: ({ body, principal, services }) =>
    memories(services).search(principal, {
      user: body.user,
      agent: body.agent,
      query: body.query,
      k: body.k,
      includeSuperseded: body.include_superseded,
    }),
});

export const createMemoryRoute = defineRoute({
  method: 'POST',
  url: '/v1/memories',
  summary: 'Remember a fact (labelled by Enclave-Classification or the caller default; screened by safety).',
  tag: 'memories',
  auth: memoryRoles,
  status: 201,
  body: writeBody,
  handle: ({ body, principal, services, request }) =>
    memories(services).create(
      principal,
      { user: body.user, agent: body.agent },
      toInput(body, labelHeader(request.headers)),
    ),
});

export const getMemoryRoute = defineRoute({
  method: 'GET',
  url: '/v1/memories/:id',
  summary: 'Retrieve a memory (a superseded one shows `current: false` and what superseded it).',
  tag: 'memories',
  auth: memoryRoles,
  params: idParams,
  handle: ({ params, principal, services }) => memories(services).get(principal, params.id),
});

export const updateMemoryRoute = defineRoute({
  method: 'POST',
  url: '/v1/memories/:id',
  summary: 'Update a memory: a new version supersedes it (the old one stays as history).',
  tag: 'memories',
  auth: memoryRoles,
  params: idParams,
  body: writeBody.omit({ user: true, agent: true }),
  handle: ({ params, body, principal, services, request }) =>
    memories(services).update(principal, params.id, toInput(body, labelHeader(request.headers))),
});

export const deleteMemoryRoute = defineRoute({
  method: 'DELETE',
  url: '/v1/memories/:id',
  summary: 'Forget a memory and what derives from it; a deletion receipt goes to the audit log.',
  tag: 'memories',
  auth: memoryRoles,
  params: idParams,
  handle: ({ params, principal, services }) => memories(services).delete(principal, params.id),
});

export const memoryRoutes = [
  listMemoriesRoute,
  searchMemoriesRoute,
  createMemoryRoute,
  getMemoryRoute,
  updateMemoryRoute,
  deleteMemoryRoute,
];
