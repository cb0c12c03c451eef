/**
 * The OpenAPI document, generated from the route schemas by building the app on a throw-away
 * in-memory database. `npm run -w @faceline/auth openapi` writes it to openapi.json (checked in);
 * a test fails when the checked-in file is stale.
 */
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { buildApp } from './app.js';
import { testConfig } from './config.js';
import { createContext } from './context.js';

export const OPENAPI_FILE = fileURLToPath(new URL('../openapi.json', import.meta.url));

export async function generateOpenApi(): Promise<string> {
  const config = testConfig({ dataDir: 'memory://', masterKey: randomBytes(32), indexResyncSeconds: 0 });
  const ctx = await createContext(config, pino({ level: 'silent' }), {
    // never called while generating: only the route schemas are read
    vision: { analyze: () => Promise.reject(new Error('no vision while generating OpenAPI')), ready: async () => false },
  });
  try {
    const { app } = await buildApp(ctx);
    const doc = app.swagger() as { info: { version: string } };
    await app.close();
    return `${JSON.stringify(doc, null, 2)}\n`;
  } finally {
    await ctx.close();
  }
}
