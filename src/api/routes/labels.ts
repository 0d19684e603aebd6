import { z } from 'zod';
import { defineRoute, anyRole } from '../route.js';

const requestBody = z
  .object({
    target: z.object({
      type: z.enum(['response', 'conversation', 'item']),
      id: z.string().min(1).max(200),
    }),
    /** The lower label, as a banner (`UNCLASSIFIED`, `SECRET//REL TO USA, GBR`), optionally with ` ACCESS=…`. */
    to: z.string().min(1).max(4096),
    /** Why the data may go lower; the reviewer reads it. */
    reason: z.string().min(1).max(2000),
  })
  // A security operation: a misspelt or extra field is refused, never silently ignored.
  .strict();

export const requestDowngradeRoute = defineRoute({
  method: 'POST',
  url: '/v1/labels/downgrades',
  summary:
    'Ask for a trusted downgrade of a response, conversation or item to a lower label (a different reviewer decides).',
  tag: 'labels',
  auth: anyRole,
  body: requestBody,
  status: 201,
  handle: async ({ body, principal, services }) =>
    services.runtime.downgrades.request(principal, {
      kind: body.target.type,
      id: body.target.id,
      to: body.to,
      reason: body.reason,
    }),
});

export const decideDowngradeRoute = defineRoute({
  method: 'POST',
  url: '/v1/labels/downgrades/:id',
  summary: 'Approve or reject a downgrade request (reviewers; never the requester: two-person rule).',
  tag: 'labels',
  auth: ['reviewer', 'admin'],
  params: z.object({ id: z.string().min(1).max(200) }),
  body: z.object({ decision: z.enum(['approve', 'reject']) }).strict(),
  handle: async ({ params, body, principal, services }) =>
    services.runtime.downgrades.decide(principal, params.id, body.decision),
});

const flag = z
  .union([z.boolean(), z.enum(['true', 'false'])])
  .transform((v) => v === true || v === 'true')
  .default(false);

export const listDowngradesRoute = defineRoute({
  method: 'GET',
  url: '/v1/labels/downgrades',
  summary:
    'Downgrade requests visible under your clearance, oldest first (reviewers: the queue; users: their own requests).',
  tag: 'labels',
  auth: anyRole,
  query: z.object({
    status: z.enum(['pending', 'approved', 'rejected']).optional(),
    /** Only requests you made (users always see only theirs). */
    mine: flag,
    /** A request id from a previous page: resume after it. */
    after: z.string().min(1).max(200).optional(),
    limit: z.coerce.number().int().min(1).max(100).default(20),
  }),
  handle: async ({ query, principal, services }) =>
    services.runtime.downgrades.list(principal, {
      status: query.status,
      mine: query.mine,
      after: query.after,
      limit: query.limit,
    }),
});

export const getDowngradeRoute = defineRoute({
  method: 'GET',
  url: '/v1/labels/downgrades/:id',
  summary: 'One downgrade request (404 when its object is above your clearance, or for users not their own).',
  tag: 'labels',
  auth: anyRole,
  params: z.object({ id: z.string().min(1).max(200) }),
  handle: async ({ params, principal, services }) => services.runtime.downgrades.get(principal, params.id),
});

export const labelRoutes = [
  requestDowngradeRoute,
  listDowngradesRoute,
  getDowngradeRoute,
  decideDowngradeRoute,
];
