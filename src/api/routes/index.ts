import type { Route } from '../route.js';
import { chatCompletionsRoute, getModelRoute, modelsRoute } from './chat-completions.js';
import { conversationRoutes } from './conversations.js';
import { responseRoutes } from './responses.js';
import { healthRoute, metricsRoute, openApiRoute, whoAmIRoute } from './system.js';

/** The route table: every HTTP route of Enclave. Add a domain's routes here. */
const domainRoutes: Route[] = [
  healthRoute,
  metricsRoute,
  whoAmIRoute,
  ...responseRoutes,
  ...conversationRoutes,
  chatCompletionsRoute,
  modelsRoute,
  getModelRoute,
];

export const allRoutes: readonly Route[] = [...domainRoutes, openApiRoute(domainRoutes)];
