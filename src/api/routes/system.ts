import { z } from 'zod';
import { defineRoute, anyRole, type Route } from '../route.js';
import { openApiDocument } from '../openapi.js';

export const healthRoute = defineRoute({
  method: 'GET',
  url: '/healthz',
  summary: 'Liveness: answers without credentials and reveals nothing.',
  tag: 'system',
  auth: 'public',
  response: z.object({ status: z.literal('ok') }),
  handle: async () => ({ status: 'ok' as const }),
});

export const metricsRoute = defineRoute({
  method: 'GET',
  url: '/metrics',
  summary: 'Prometheus metrics.',
  tag: 'system',
  auth: ['admin', 'auditor'],
  handle: async ({ services, reply }) => {
    void reply.header('content-type', services.metrics.registry.contentType);
    return services.metrics.registry.metrics();
  },
});

export const whoAmIRoute = defineRoute({
  method: 'GET',
  url: '/v1/me',
  summary: 'The authenticated principal (tenant, role, clearance) — a cheap authenticated route.',
  tag: 'system',
  auth: anyRole,
  response: z.object({
    tenant: z.string(),
    subject: z.string(),
    role: z.string(),
    clearance: z.string(),
    default_label: z.string().optional(),
  }),
  handle: async ({ principal }) => ({
    tenant: principal.tenantId,
    subject: principal.subject,
    role: principal.role,
    clearance: principal.clearance,
    ...(principal.defaultLabel ? { default_label: principal.defaultLabel } : {}),
  }),
});

/** The OpenAPI route needs the whole table, so it is built from it. */
export const openApiRoute = (routes: readonly Route[]): Route => {
  // The document lists every route of the table, itself included.
  const self: Route = defineRoute({
    method: 'GET',
    url: '/openapi.json',
    summary: 'This OpenAPI document.',
    tag: 'system',
    auth: anyRole,
    handle: async ({ services }) => openApiDocument([...routes, self], services.version),
  });
  return self;
};
