/**
 * Writes services/vision/openapi.json from the route schemas:
 *   npm run -w @faceline/vision openapi
 * test/openapi.test.ts fails when the checked-in file is stale.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { buildApp, type AnalyzePool } from '../src/app.js';
import { WorkerPool } from '../src/workers/pool.js';

export const OPENAPI_FILE = fileURLToPath(new URL('../openapi.json', import.meta.url));

/** The OpenAPI document as the service serves it at /openapi.json (no workers are started). */
export async function generateOpenApi(): Promise<string> {
  const pool: AnalyzePool = new WorkerPool({
    size: 1,
    queueMax: 0,
    taskTimeoutMs: 1000,
    spawn: () => {
      throw new Error('the OpenAPI document needs no workers');
    },
  });
  const app = await buildApp({
    config: { bodyLimitBytes: 8 * 1024 * 1024, retryAfterSeconds: 1, version: '0.0.0', logLevel: 'silent' },
    pool,
  });
  await app.ready();
  const doc = `${JSON.stringify(app.swagger(), null, 2)}\n`;
  await app.close();
  return doc;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(OPENAPI_FILE, await generateOpenApi());
  console.log(`wrote ${OPENAPI_FILE}`);
}
