import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildServer } from '../../src/api/server.js';
import { createServices, type Services } from '../../src/app/services.js';
import { loadConfig } from '../../src/config/config.js';
import { createApiKey } from '../../src/identity/api-keys.js';
import { categories } from '../../src/safety/index.js';
import type { Role } from '../../src/identity/principal.js';
import { canonicalLabel, parseBanner } from '../../src/labels/index.js';
import { createLogger } from '../../src/telemetry/logger.js';
import { createTestDatabase, type Engine, type TestDatabase } from './stores.js';

export interface TestServer {
  baseUrl: string;
  services: Services;
  app: FastifyInstance;
  database: TestDatabase;
  /** Creates an API key in `tenant` and returns it in the clear. */
  key(options?: {
    tenant?: string;
    role?: Role;
    clearance?: string;
    authorizations?: string[];
    name?: string;
  }): Promise<string>;
  close(): Promise<void>;
}

let keyCounter = 0;

/**
 * A policy that flags every category on every surface: the whole safety path runs, nothing is refused; and a
 * guard that checks every delta with no hold-back, so streams keep the upstream's cadence (nothing to block).
 */
const monitorSafety = {
  policy: {
    version: 'test-monitor/1',
    rules: Object.fromEntries(categories.map((c) => [c, { threshold: 0.5, action: 'flag' }])),
  },
  stream: { checkEvery: 1, holdBack: 0 },
};

/**
 * A real Enclave server on a free loopback port over a fresh database of `engine`.
 * `configFile` becomes `<dataDir>/config.json`; `env` overrides environment variables for the config.
 */
export async function startTestServer(
  options: { engine?: Engine; configFile?: Record<string, unknown>; env?: Record<string, string> } = {},
): Promise<TestServer> {
  const database = await createTestDatabase(options.engine ?? 'sqlite');
  // Tests of other concerns send arbitrary short texts ('to delete', 'and again?') on which the statistical
  // classifier is unreliable: unless a test configures `safety` itself, the stack runs on every path (classify,
  // record, audit) in monitor mode, flagging instead of blocking. Safety tests pass `safety: {}` for the real default.
  const configFile = { safety: monitorSafety, ...options.configFile };
  writeFileSync(join(database.dataDir, 'config.json'), JSON.stringify(configFile));
  const env: NodeJS.ProcessEnv = { ...options.env, ENCLAVE_DATA_DIR: database.dataDir };
  if (database.databaseUrl) env.DATABASE_URL = database.databaseUrl;
  const config = loadConfig({ port: 0 }, env);
  const services = await createServices(config, {
    logger: createLogger(process.env.ENCLAVE_TEST_LOG ?? 'silent'),
  });
  const app = await buildServer(services);
  const baseUrl = await app.listen({ host: '127.0.0.1', port: 0 });
  return {
    baseUrl,
    services,
    app,
    database,
    async key(o = {}) {
      const { key } = await createApiKey(services.store, services.serverSecret, {
        tenantId: o.tenant ?? 'tenant-a',
        name: o.name ?? `key-${++keyCounter}`,
        role: o.role ?? 'user',
        // Given as a banner ('SECRET//SI'), stored canonical — as `enclave keys create` does.
        clearance: canonicalLabel(parseBanner(o.clearance ?? 'UNCLASSIFIED')),
        authorizations: o.authorizations ?? [],
      });
      return key;
    },
    async close() {
      await app.close();
      await services.close();
      await database.drop();
    },
  };
}
