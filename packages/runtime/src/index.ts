export { ConfigError } from './config-error.js';
export { EnvReader, readEnv, parseDecimal, parseBoolean, splitList, httpUrl, orList, type Env, type Range } from './env.js';
export { LOG_LEVELS, logLevel, type LogLevel } from './log-level.js';
export { parseTrustProxy, trustFunction, trustProxy, type TrustFunction, type TrustProxy } from './trust-proxy.js';
export { createMetricsRegistry, scrape, type MetricsRegistryOptions } from './metrics.js';
export { onShutdown, type Closer, type ShutdownLog, type ShutdownOptions } from './shutdown.js';
