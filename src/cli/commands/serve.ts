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
      // A keep-alive connection whose request finishes during the drain would hold close() open until the
      // client's idle timeout: answers sent while stopping say `Connection: close`, and idle sockets are shut.
      app.addHook('onSend', async (_request, reply) => {
        if (stopping) reply.header('connection', 'close');
      });
      const stop = async (signal: string): Promise<void> => {
        if (stopping) return;
        stopping = true;
        services.logger.info({ signal }, 'shutting down: draining in-flight requests');
        const idle = setInterval(() => app.server.closeIdleConnections(), 200);
        // close() stops accepting, waits for in-flight requests, then the store closes.
        await app.close();
        clearInterval(idle);
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
