/**
 * Reading a service's environment with one meaning for every kind of value, in every service:
 *
 * - a value is trimmed, and an empty value is the same as an unset one (the default applies);
 * - an integer is a decimal number whose value is whole: "1000", "1e3" and "1000.0" are all 1000
 *   (Helm renders large numbers as "1e+06"); "0x10", "12px" and "Infinity" are refused;
 * - a boolean is true/yes/on/1 or false/no/off/0, in any case;
 * - a duration is a whole number in the variable's own unit, or a number with ms, s, m or h;
 * - a URL is http(s), without a trailing slash; a list is comma-separated, empty entries dropped;
 * - a secret may come from VAR or from the file VAR_FILE names (not both), as Kubernetes and
 *   compose mount secrets: it then stays out of the environment, process listings and crash dumps.
 *
 * Problems are collected, not thrown: `done()` throws one ConfigError listing them all.
 *
 * @example
 * const env = readEnv(process.env);
 * const port = env.int('PORT', { fallback: 8080, min: 0, max: 65535 });
 * const key = env.secret('FACELINE_MASTER_KEY');
 * env.done(); // throws ConfigError when anything above was wrong
 */
import { readFileSync } from 'node:fs';
import { ConfigError } from './config-error.js';

export type Env = Readonly<Record<string, string | undefined>>;

export interface Range {
  min: number;
  max: number;
}

const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;
const TRUE = ['1', 'true', 'yes', 'on'];
const FALSE = ['0', 'false', 'no', 'off'];
const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/i;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** A decimal number as the environment spells it, or undefined for anything else. */
export function parseDecimal(raw: string): number | undefined {
  if (!DECIMAL.test(raw)) return undefined;
  const n = Number(raw);
  return Number.isFinite(n) ? n : undefined;
}

/** true/false for the accepted spellings of a boolean, undefined for anything else. */
export function parseBoolean(raw: string): boolean | undefined {
  const v = raw.trim().toLowerCase();
  if (TRUE.includes(v)) return true;
  if (FALSE.includes(v)) return false;
  return undefined;
}

export class EnvReader {
  readonly problems: string[] = [];

  constructor(private readonly env: Env) {}

  /** Records a problem found by the caller (a rule between variables, a format of its own). */
  problem(message: string): void {
    this.problems.push(message);
  }

  /** Throws one ConfigError with every problem recorded so far. */
  done(): void {
    if (this.problems.length) throw new ConfigError([...this.problems]);
  }

  /** The trimmed value; empty counts as unset. */
  str(name: string): string | undefined {
    const v = this.env[name]?.trim();
    return v === undefined || v === '' ? undefined : v;
  }

  /** True when the variable has a non-empty value. */
  has(name: string): boolean {
    return this.str(name) !== undefined;
  }

  /** A whole number within the range (see the module comment for the accepted spellings). */
  int(name: string, fallback: number, range: Range): number {
    return this.numeric(name, fallback, range, true);
  }

  /** Any finite decimal number within the range. */
  number(name: string, fallback: number, range: Range): number {
    return this.numeric(name, fallback, range, false);
  }

  /** Like int, but undefined when unset. */
  optionalInt(name: string, range: Range): number | undefined {
    return this.has(name) ? this.int(name, range.min, range) : undefined;
  }

  bool(name: string, fallback: boolean): boolean {
    const raw = this.str(name);
    if (raw === undefined) return fallback;
    const v = parseBoolean(raw);
    if (v === undefined) {
      this.problems.push(`${name} must be true or false, got "${raw}"`);
      return fallback;
    }
    return v;
  }

  /** One of the listed words; the message lists them ("a, b or c"). */
  enum<T extends string>(name: string, values: readonly T[], fallback: T): T {
    const raw = this.str(name);
    if (raw === undefined) return fallback;
    if ((values as readonly string[]).includes(raw)) return raw as T;
    this.problems.push(`${name} must be ${orList(values)}, got "${raw}"`);
    return fallback;
  }

  /**
   * A duration in milliseconds: a whole number in `unit` ("5000" with unit ms), or a number with
   * its own unit ("5s", "1.5m", "250ms", "2h").
   */
  duration(name: string, fallbackMs: number, range: Range & { unit: 'ms' | 's' }): number {
    const raw = this.str(name);
    if (raw === undefined) return fallbackMs;
    const m = DURATION.exec(raw);
    const ms = m ? Number(m[1]) * UNIT_MS[(m[2] ?? range.unit).toLowerCase()]! : NaN;
    if (!Number.isFinite(ms) || (m?.[2] === undefined && !Number.isInteger(Number(m?.[1]))) || ms < range.min || ms > range.max) {
      this.problems.push(
        `${name} must be a duration between ${range.min} ms and ${range.max} ms (a whole number of ${range.unit === 'ms' ? 'milliseconds' : 'seconds'}, or with ms, s, m or h), got "${raw}"`,
      );
      return fallbackMs;
    }
    return Math.round(ms);
  }

  /** An http(s) URL without its trailing slash; `origin` keeps only scheme, host and port. */
  url(name: string, opts: { example: string; origin?: boolean }): string | undefined {
    const raw = this.str(name);
    if (raw === undefined) return undefined;
    const url = httpUrl(raw, opts.origin ?? false);
    if (url === undefined) this.problems.push(`${name} must be an http(s) URL such as ${opts.example}, got "${raw}"`);
    return url;
  }

  /** Comma-separated entries, trimmed, empty ones dropped; undefined when unset. */
  list(name: string): string[] | undefined {
    const raw = this.str(name);
    return raw === undefined ? undefined : splitList(raw);
  }

  /**
   * A secret from VAR or from the file named by VAR_FILE (trimmed; an empty file is a problem).
   * Setting both is a problem too: which one wins would be a guess.
   */
  secret(name: string): string | undefined {
    const file = this.str(`${name}_FILE`);
    if (file === undefined) return this.str(name);
    if (this.has(name)) this.problems.push(`set either ${name} or ${name}_FILE, not both`);
    try {
      const value = readFileSync(file, 'utf8').trim();
      if (value === '') this.problems.push(`${name}_FILE names an empty file (${file})`);
      return value === '' ? undefined : value;
    } catch (err) {
      this.problems.push(`${name}_FILE names a file that cannot be read (${file}: ${(err as NodeJS.ErrnoException).code ?? 'error'})`);
      return undefined;
    }
  }

  private numeric(name: string, fallback: number, range: Range, integer: boolean): number {
    const raw = this.str(name);
    if (raw === undefined) return fallback;
    const n = parseDecimal(raw);
    if (n === undefined || (integer && !Number.isSafeInteger(n)) || n < range.min || n > range.max) {
      this.problems.push(`${name} must be ${integer ? 'an integer' : 'a number'} between ${range.min} and ${range.max}, got "${raw}"`);
      return fallback;
    }
    return n;
  }
}

/** A reader over `env` (process.env in services, a plain object in tests). */
export function readEnv(env: Env): EnvReader {
  return new EnvReader(env);
}

export function splitList(raw: string): string[] {
  return raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/** The URL normalised (no trailing slash, or just the origin), or undefined unless http(s). */
export function httpUrl(raw: string, origin = false): string | undefined {
  try {
    const u = new URL(raw);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') return undefined;
    return origin ? u.origin : u.href.replace(/\/$/, '');
  } catch {
    return undefined;
  }
}

/** "a, b or c" */
export function orList(values: readonly string[]): string {
  return values.length <= 1 ? (values[0] ?? '') : `${values.slice(0, -1).join(', ')} or ${values.at(-1)}`;
}
