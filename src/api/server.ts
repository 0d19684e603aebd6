import { randomBytes } from 'node:crypto';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Services } from '../app/services.js';
import { EnclaveError } from '../errors/index.js';
import { authenticate } from '../identity/authenticate.js';
import type { Principal } from '../identity/principal.js';
import { handleError } from './error-handler.js';
import type { Route } from './route.js';
import { allRoutes } from './routes/index.js';

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
  interface FastifyContextConfig {
    auth?: Route['auth'];
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
    const principal = await authenticate(services, request.headers.authorization, {
      requestId: request.id,
      route: `${request.method} ${request.routeOptions.url ?? ''}`,
      onBehalfOf: onBehalfOfHeader(request.headers['enclave-on-behalf-of']),
    });
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
      config: { auth: route.auth },
      handler: async (request, reply) => {
        const principal = request.principal;
        if (route.auth !== 'public' && !principal)
          throw new EnclaveError('unauthenticated', 'Authentication required.');
        const result = await route.run({
          body: request.body,
          query: request.query,
          params: request.params,
          principal: principal as Principal,
          services,
          request,
          reply,
        });
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
