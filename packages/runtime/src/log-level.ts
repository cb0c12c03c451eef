/**
 * LOG_LEVEL, the same in every service: pino's levels, `info` when unset or empty.
 *
 * @example
 * const level = logLevel(readEnv(process.env)); // 'info' unless LOG_LEVEL says otherwise
 */
import type { EnvReader } from './env.js';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export function logLevel(env: EnvReader, name = 'LOG_LEVEL', fallback: LogLevel = 'info'): LogLevel {
  const raw = env.str(name);
  if (raw === undefined) return fallback;
  if ((LOG_LEVELS as readonly string[]).includes(raw)) return raw as LogLevel;
  env.problem(`${name} must be one of ${LOG_LEVELS.join(', ')}, got "${raw}"`);
  return fallback;
}
