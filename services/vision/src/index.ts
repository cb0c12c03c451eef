export type * from './pipeline/types.js';
export { buildApp, type AnalyzePool, type AppDeps } from './app.js';
export { loadConfig, ConfigError, type VisionConfig } from './config.js';
export { WorkerPool, type PoolStats } from './workers/pool.js';
export { spawnAnalyzeWorker } from './workers/spawn.js';
