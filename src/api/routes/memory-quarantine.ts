import { z } from 'zod';
import type { Services } from '../../app/services.js';
import type { Role } from '../../identity/principal.js';
import { MemoryQuarantine } from '../../runtime/memory-quarantine.js';
import { defineRoute } from '../route.js';

/** Quarantined memory writes are decided by reviewers only (a user key answers 403), as the safety queue. */
const reviewerOnly: readonly Role[] = ['reviewer'];
const idParams = z.object({ id: z.string().min(1).max(200) });

const quarantine = (services: Services) =>
  new MemoryQuarantine({ memory: services.memory, labels: services.runtime.labels, store: services.store });

export const listMemoryQuarantineRoute = defineRoute({
  method: 'GET',
  url: '/v1/memories/quarantine',
  summary: 'Memory writes the safety screen quarantined, visible under your clearance, oldest first.',
  tag: 'memories',
  auth: reviewerOnly,
  query: z.object({
    status: z.enum(['pending', 'released', 'rejected']).default('pending'),
    after: z.string().min(1).optional(),
    limit: z.coerce.number().int().min(1).max(100).default(20),
  }),
  handle: ({ query, principal, services }) =>
    quarantine(services).list(principal, { status: query.status, after: query.after, limit: query.limit }),
});

export const getMemoryQuarantineRoute = defineRoute({
  method: 'GET',
  url: '/v1/memories/quarantine/:id',
  summary: 'One quarantined memory write with its text (404 when its label is above your clearance).',
  tag: 'memories',
  auth: reviewerOnly,
  params: idParams,
  handle: ({ params, principal, services }) => quarantine(services).get(principal, params.id),
});

export const decideMemoryQuarantineRoute = defineRoute({
  method: 'POST',
  url: '/v1/memories/quarantine/:id',
  summary:
    'Release a quarantined write into memory, or reject it (deleted, with a receipt). Not a write to your own memory.',
  tag: 'memories',
  auth: reviewerOnly,
  params: idParams,
  body: z.object({ decision: z.enum(['release', 'reject']), note: z.string().max(2000).optional() }).strict(),
  handle: ({ params, body, principal, services }) => quarantine(services).decide(principal, params.id, body),
});

export const memoryQuarantineRoutes = [
  listMemoryQuarantineRoute,
  getMemoryQuarantineRoute,
  decideMemoryQuarantineRoute,
];
