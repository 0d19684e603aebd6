import { z } from 'zod';
import type { Role } from '../../identity/principal.js';
import { SafetyReviews } from '../../runtime/safety-reviews.js';
import type { Services } from '../../app/services.js';
import { defineRoute } from '../route.js';

/** The review queue is for humans whose job it is: reviewers only (a user key answers 403). */
const reviewerOnly: readonly Role[] = ['reviewer'];

const reviews = (services: Services) =>
  new SafetyReviews(services.store, services.runtime.labels, services.audit);

const idParams = z.object({ id: z.string().min(1) });

export const listSafetyReviewsRoute = defineRoute({
  method: 'GET',
  url: '/v1/safety/reviews',
  summary:
    'The safety review queue (flagged, blocked, escalated items) visible under your clearance, oldest first.',
  tag: 'safety',
  auth: reviewerOnly,
  query: z.object({
    status: z.enum(['pending', 'confirmed', 'corrected']).optional(),
    after: z.string().min(1).optional(),
    limit: z.coerce.number().int().min(1).max(100).default(20),
  }),
  handle: async ({ query, principal, services }) =>
    reviews(services).list(principal, { status: query.status, after: query.after, limit: query.limit }),
});

export const getSafetyReviewRoute = defineRoute({
  method: 'GET',
  url: '/v1/safety/reviews/:id',
  summary: 'One review item with its text (404 when its label is above your clearance).',
  tag: 'safety',
  auth: reviewerOnly,
  params: idParams,
  handle: async ({ params, principal, services }) => reviews(services).get(principal, params.id),
});

export const decideSafetyReviewRoute = defineRoute({
  method: 'POST',
  url: '/v1/safety/reviews/:id',
  summary:
    "Decide a pending item: confirm the stack's categories or correct them ([] = not harmful). Not your own request.",
  tag: 'safety',
  auth: reviewerOnly,
  params: idParams,
  body: z
    .object({
      decision: z.enum(['confirm', 'correct']),
      categories: z.array(z.string().min(1).max(64)).max(20).optional(),
      note: z.string().max(2000).optional(),
    })
    .strict(),
  handle: async ({ params, body, principal, services }) =>
    reviews(services).decide(principal, params.id, body),
});

export const safetyReviewRoutes = [listSafetyReviewsRoute, getSafetyReviewRoute, decideSafetyReviewRoute];
