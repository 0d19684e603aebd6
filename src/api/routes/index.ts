import type { Route } from '../route.js';
import { healthRoute, metricsRoute, openApiRoute, whoAmIRoute } from './system.js';

/** The route table: every HTTP route of Enclave. Add a domain's routes here. */
const domainRoutes: Route[] = [healthRoute, metricsRoute, whoAmIRoute];

export const allRoutes: readonly Route[] = [...domainRoutes, openApiRoute(domainRoutes)];
