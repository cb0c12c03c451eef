/** Starts one auth replica: validate config, open the database, listen, stop cleanly on SIGTERM. */
import { pino } from 'pino';
import { onShutdown } from '@faceline/runtime';
import { buildApp } from './app.js';
import { ConfigError, loadConfig, type AuthConfig } from './config.js';
import { createContext } from './context.js';

async function main(): Promise<void> {
  let config: AuthConfig;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(2);
    }
    throw err;
  }
  const log = pino({
    level: config.logLevel,
    base: { service: 'auth', version: config.version },
    redact: { paths: ['req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]'], remove: true },
  });
  const ctx = await createContext(config, log);
  const { app } = await buildApp(ctx);
  await app.listen({ host: config.host, port: config.port });
  log.info({ database: ctx.db.kind, vision: config.visionUrls, liveness: config.liveness }, 'auth service ready');

  onShutdown({
    log,
    graceMs: config.shutdownGraceSeconds * 1000,
    closers: [
      ['http server and sockets', () => app.close()],
      ['database, index and vision clients', () => ctx.close()],
    ],
  });
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
