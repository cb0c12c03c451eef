/**
 * Starts analysis workers from compiled JavaScript (dist/, production) or from TypeScript
 * (src/, development and tests).
 *
 * Under Node 20 a worker inherits `--import tsx` in its execArgv but the loader hooks are not
 * active for its entry module, so a `.ts` entry fails with ERR_UNKNOWN_FILE_EXTENSION. In
 * development the worker therefore starts from a tiny evaluated script that registers tsx's ESM
 * hooks in the worker itself and then imports the TypeScript entry. Production never loads tsx.
 */
import { Worker } from 'node:worker_threads';
import type { AnalyzeWorkerSettings } from './protocol.js';
import { disableOrtTelemetryByDefault } from '../pipeline/ort-telemetry.js';

const fromSource = import.meta.url.endsWith('.ts');

export function analyzeWorkerEntry(): URL {
  return new URL(fromSource ? './analyze.worker.ts' : './analyze.worker.js', import.meta.url);
}

export function spawnAnalyzeWorker(settings: AnalyzeWorkerSettings, workerId: number): Worker {
  disableOrtTelemetryByDefault();
  const entry = analyzeWorkerEntry();
  const options = { workerData: settings, name: `vision-analyze-${workerId}` };
  if (!fromSource) return new Worker(entry, options);
  const tsxApi = import.meta.resolve('tsx/esm/api');
  const boot = `import(${JSON.stringify(tsxApi)})` + `.then((tsx) => { tsx.register(); return import(${JSON.stringify(entry.href)}); })`;
  return new Worker(boot, { ...options, eval: true });
}
