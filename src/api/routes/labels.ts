import { z } from 'zod';
import { defineRoute, anyRole } from '../route.js';

const requestBody = z.object({
  target: z.object({
    type: z.enum(['response', 'conversation', 'item']),
    id: z.string().min(1).max(200),
  }),
  /** The lower label, as a banner (`UNCLASSIFIED`, `SECRET//REL TO USA, GBR`), optionally with ` ACCESS=…`. */
  to: z.string().min(1).max(4096),
  /** Why the data may go lower; the reviewer reads it. */
  reason: z.string().min(1).max(2000),
});

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
  body: z.object({ decision: z.enum(['approve', 'reject']) }),
  handle: async ({ params, body, principal, services }) =>
    services.runtime.downgrades.decide(principal, params.id, body.decision),
});

export const labelRoutes = [requestDowngradeRoute, decideDowngradeRoute];
