/**
 * TRUST_PROXY, with one meaning in every service that sits behind a proxy (web and auth), as
 * docs/auth-service.md tells operators:
 *
 * - `true` / `false`: trust every hop / none;
 * - a whole number `n`: the `n` nearest hops are trusted, whatever their address (`0` = none);
 * - otherwise comma-separated addresses, CIDRs and proxy-addr's names (`loopback`, `linklocal`,
 *   `uniquelocal`): only hops from those addresses are trusted.
 *
 * The value goes to Fastify's `trustProxy` as it is; Fastify compiles it with proxy-addr, which
 * is also what checks the addresses here, so a value that passes here cannot fail at start.
 *
 * @example
 * trustProxy(readEnv({ TRUST_PROXY: '10.42.0.0/16' })); // '10.42.0.0/16'
 * trustProxy(readEnv({ TRUST_PROXY: '2' }));            // 2
 */
import proxyAddr from '@fastify/proxy-addr';
import type { EnvReader } from './env.js';

export type TrustProxy = boolean | number | string;

/** The parsed value, or an Error saying why the addresses cannot be read. */
export function parseTrustProxy(raw: string): TrustProxy | Error {
  const v = raw.trim();
  if (/^(true|false)$/i.test(v)) return v.toLowerCase() === 'true';
  if (/^\d+$/.test(v)) return Number(v);
  try {
    proxyAddr.compile(v.split(',').map((s) => s.trim()).filter(Boolean));
    return v;
  } catch (err) {
    return err as Error;
  }
}

export function trustProxy(env: EnvReader, name = 'TRUST_PROXY'): TrustProxy {
  const raw = env.str(name);
  if (raw === undefined) return false;
  const parsed = parseTrustProxy(raw);
  if (parsed instanceof Error) {
    env.problem(`${name} must be true, false, a hop count or comma-separated addresses/CIDRs, got "${raw}" (${parsed.message})`);
    return false;
  }
  return parsed;
}
