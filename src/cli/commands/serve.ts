import { Command } from 'commander';
import { buildServer } from '../../api/server.js';
import { createServices } from '../../app/services.js';
import { configFrom } from '../context.js';

export function serveCommand(): Command {
  return new Command('serve')
    .description('Serve the HTTP API (OpenAI-compatible) until SIGINT/SIGTERM.')
    .action(async (_opts, command: Command) => {
      const config = configFrom(command);
      const services = await createServices(config);
      const app = await buildServer(services);
      let stopping = false;
      const stop = async (signal: string): Promise<void> => {
        if (stopping) return;
        stopping = true;
        services.logger.info({ signal }, 'shutting down: draining in-flight requests');
        // close() stops accepting, waits for in-flight requests, then the store closes.
        await app.close();
        await services.close();
        process.exit(0);
      };
      process.once('SIGINT', () => void stop('SIGINT'));
      process.once('SIGTERM', () => void stop('SIGTERM'));
      const address = await app.listen({ host: config.host, port: config.port });
      const keys = await services.store.apiKeys.list();
      process.stdout.write(
        `Enclave ${services.version} listening on ${address} (data: ${config.dataDir}, store: ${services.store.dialect})\n`,
      );
      if (keys.length === 0) {
        process.stdout.write(
          'No API keys yet. Create one with:\n  npx enclave keys create --tenant default --name me --role admin\n',
        );
      }
    });
}
