import { randomBytes } from 'node:crypto';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Services } from '../app/services.js';
import { EnclaveError } from '../errors/index.js';
import { authenticateDeferred } from '../identity/authenticate.js';
import type { AuthEntry } from '../identity/auth-entry.js';
import type { Principal } from '../identity/principal.js';
import { handleError } from './error-handler.js';
import type { Route } from './route.js';
import { allRoutes } from './routes/index.js';

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
    /** The `auth.ok` entry, not yet recorded (routes with `joinsAuthAudit` only). */
    authEntry?: AuthEntry;
  }
  interface FastifyContextConfig {
    auth?: Route['auth'];
    joinsAuthAudit?: boolean;
  }
}

const REQUEST_ID = /^[A-Za-z0-9_.:-]{1,64}$/;

/** Builds the HTTP face: one Fastify route per entry of the route table, auth before body parsing. */
export async function buildServer(
  services: Services,
  routes: readonly Route[] = allRoutes,
): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: services.logger as FastifyBaseLogger,
    bodyLimit: services.config.bodyLimit,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given)
        ? given
        : `req_${randomBytes(8).toString('hex')}`;
    },
    return503OnClosing: true,
    forceCloseConnections: 'idle',
  });

  app.setErrorHandler(handleError);
  app.setNotFoundHandler((request, reply) => {
    void reply
      .status(404)
      .send(
        new EnclaveError('not_found', `No route ${request.method} ${request.url.split('?')[0]}.`).toBody(),
      );
  });

  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
    const auth = request.routeOptions.config.auth;
    if (auth === undefined || auth === 'public') return;
    const { principal, auth: authEntry } = await authenticateDeferred(
      services,
      request.headers.authorization,
      {
        requestId: request.id,
        route: `${request.method} ${request.routeOptions.url ?? ''}`,
        onBehalfOf: onBehalfOfHeader(request.headers['enclave-on-behalf-of']),
      },
    );
    // A route that joins the auth entry to its own first audit commit gets it unrecorded; every other route
    // (and a refusal) records it here, so nothing runs or answers before it is durable.
    if (request.routeOptions.config.joinsAuthAudit === true && auth.includes(principal.role))
      request.authEntry = authEntry;
    else await authEntry.recorded();
    if (!auth.includes(principal.role)) {
      throw new EnclaveError(
        'forbidden',
        `This route needs one of the roles ${auth.join(', ')}; this key has role ${principal.role}.`,
      );
    }
    request.principal = principal;
  });

  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    services.metrics.httpRequests.inc({ method: request.method, route, status: String(reply.statusCode) });
    services.metrics.httpDuration.observe({ method: request.method, route }, reply.elapsedTime / 1000);
  });

  for (const route of routes) {
    app.route({
      method: route.method,
      url: route.url,
      config: { auth: route.auth, joinsAuthAudit: route.joinsAuthAudit },
      handler: async (request, reply) => {
        const principal = request.principal;
        if (route.auth !== 'public' && !principal)
          throw new EnclaveError('unauthenticated', 'Authentication required.');
        const authEntry = request.authEntry;
        const result = await route
          .run({
            body: request.body,
            query: request.query,
            params: request.params,
            principal: principal as Principal,
            services,
            request,
            reply,
            authEntry,
          })
          // Fail-closed whatever the handler did: neither an answer nor an error goes out before the request's
          // auth entry is durable, and a failed append wins (503 audit_unavailable): `finally` adopts its rejection.
          .finally(() => authEntry?.recorded());
        if (reply.sent || reply.raw.headersSent) return reply;
        return reply.status(route.status).send(result);
      },
    });
  }
  return app;
}

/** Repeating the header is refused (an empty credential never verifies) rather than picking one of them. */
const onBehalfOfHeader = (value: string | string[] | undefined): string | undefined =>
  value === undefined ? undefined : typeof value === 'string' ? value : '';
