import type { FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import type { Services } from '../app/services.js';
import type { AuthEntry } from '../identity/auth-entry.js';
import type { Principal, Role } from '../identity/principal.js';
import { parseInput } from './parse-input.js';

export type HttpMethod = 'GET' | 'POST' | 'DELETE';

export interface RouteContext<B, Q, P> {
  body: B;
  query: Q;
  params: P;
  principal: Principal;
  services: Services;
  request: FastifyRequest;
  /** For streaming handlers only: once they write to `reply.raw`, their return value is ignored. */
  reply: FastifyReply;
  /**
   * Set for a route with `joinsAuthAudit`: the request's `auth.ok` entry, not yet recorded. The handler must
   * record it before any effect (`recorded()`, or a turn takes it into its first audit commit); the server
   * waits for it again before anything is answered.
   */
  authEntry?: AuthEntry | undefined;
}

export interface RouteSpec<B, Q, P> {
  method: HttpMethod;
  /** Fastify path, e.g. `/v1/responses/:id`. */
  url: string;
  summary: string;
  tag: string;
  /** Roles allowed to call it; 'public' only for /healthz. */
  auth: readonly Role[] | 'public';
  body?: z.ZodType<B>;
  query?: z.ZodType<Q>;
  params?: z.ZodType<P>;
  /** Documented response schema (OpenAPI only). */
  response?: z.ZodType;
  /** Status of a successful answer (default 200). */
  status?: number;
  /** The handler takes the `auth.ok` entry as `authEntry` instead of it being recorded up front. */
  joinsAuthAudit?: boolean;
  handle(ctx: RouteContext<B, Q, P>): Promise<unknown>;
}

/** A route with its types erased: input is parsed by its own schemas before `handle` runs. */
export interface Route {
  method: HttpMethod;
  url: string;
  summary: string;
  tag: string;
  auth: readonly Role[] | 'public';
  schemas: { body?: z.ZodType; query?: z.ZodType; params?: z.ZodType; response?: z.ZodType };
  status: number;
  joinsAuthAudit: boolean;
  run(ctx: RouteContext<unknown, unknown, unknown>): Promise<unknown>;
}

export function defineRoute<B = undefined, Q = undefined, P = undefined>(spec: RouteSpec<B, Q, P>): Route {
  const schemas: Route['schemas'] = {};
  if (spec.body) schemas.body = spec.body;
  if (spec.query) schemas.query = spec.query;
  if (spec.params) schemas.params = spec.params;
  if (spec.response) schemas.response = spec.response;
  return {
    method: spec.method,
    url: spec.url,
    summary: spec.summary,
    tag: spec.tag,
    auth: spec.auth,
    schemas,
    status: spec.status ?? 200,
    joinsAuthAudit: spec.joinsAuthAudit ?? false,
    run: (ctx) =>
      spec.handle({
        ...ctx,
        body: (spec.body ? parseInput(spec.body, ctx.body ?? {}, 'body') : undefined) as B,
        query: (spec.query ? parseInput(spec.query, ctx.query ?? {}, 'query') : undefined) as Q,
        params: (spec.params ? parseInput(spec.params, ctx.params ?? {}, 'path') : undefined) as P,
      }),
  };
}

/** Every role: for routes any authenticated principal may call. */
export const anyRole: readonly Role[] = ['user', 'admin', 'auditor', 'reviewer'];
