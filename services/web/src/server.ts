/**
 * Starts the web service: `node --conditions=source --import tsx services/web/src/server.ts`.
 * On SIGTERM/SIGINT it reports not-ready, stops accepting connections and exits once open
 * requests are done (or after SHUTDOWN_GRACE_SECONDS).
 */
import pino from 'pino';
import { onShutdown } from '@faceline/runtime';
import { ConfigError, loadConfig, type WebConfig } from './config.js';
import { buildApp } from './app.js';
import { appIsBuilt } from './plugins/static-app.js';

let config: WebConfig;
try {
  config = loadConfig();
} catch (err) {
  if (err instanceof ConfigError) {
    console.error(`web: ${err.message}`);
    process.exit(2);
  }
  throw err;
}

const logger = pino({ level: config.logLevel, base: { service: 'web' } });
const { app, metricsApp, beginShutdown } = await buildApp({ config, logger });

if (!appIsBuilt(config.publicDir)) {
  logger.warn({ publicDir: config.publicDir }, 'browser app not built: run `npm run build:app -w @faceline/web`');
}

onShutdown({
  log: logger,
  graceMs: config.shutdownGraceSeconds * 1000,
  // not-ready first, so that load balancers stop sending traffic while open requests finish
  onSignal: beginShutdown,
  closers: [
    ['http server', () => app.close()],
    ['metrics listener', () => metricsApp?.close()],
  ],
});

try {
  const address = await app.listen({ host: config.host, port: config.port });
  const metricsAddress = metricsApp ? await metricsApp.listen({ host: config.host, port: config.metricsPort ?? 0 }) : null;
  logger.info({ address, metricsAddress, authUrl: config.authUrl ?? null, tls: Boolean(config.tls) }, 'web listening');
} catch (err) {
  logger.fatal({ err }, 'could not listen');
  process.exit(1);
}
