import type { Route } from '../route.js';
import { auditRoutes } from './audit.js';
import { chatCompletionsRoute, getModelRoute, modelsRoute } from './chat-completions.js';
import { conversationRoutes } from './conversations.js';
import { labelRoutes } from './labels.js';
import { moderationsRoute } from './moderations.js';
import { responseRoutes } from './responses.js';
import { responseRunRoutes } from './response-runs.js';
import { memoryRoutes } from './memories.js';
import { memoryQuarantineRoutes } from './memory-quarantine.js';
import { safetyReviewRoutes } from './safety-reviews.js';
import { healthRoute, metricsRoute, openApiRoute, whoAmIRoute } from './system.js';

/** The route table: every HTTP route of Enclave. Add a domain's routes here. */
const domainRoutes: Route[] = [
  healthRoute,
  metricsRoute,
  whoAmIRoute,
  ...auditRoutes,
  ...responseRoutes,
  ...responseRunRoutes,
  ...conversationRoutes,
  ...labelRoutes,
  ...memoryQuarantineRoutes,
  ...memoryRoutes,
  chatCompletionsRoute,
  modelsRoute,
  getModelRoute,
  moderationsRoute,
  ...safetyReviewRoutes,
];

export const allRoutes: readonly Route[] = [...domainRoutes, openApiRoute(domainRoutes)];
