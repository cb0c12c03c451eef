/**
 * TRUST_PROXY, with one meaning in every service that sits behind a proxy (web and auth), as
 * docs/auth-service.md tells operators:
 *
 * - `true` / `false`: trust every hop / none;
 * - a whole number `n`: the `n` nearest hops are trusted, whatever their address (`0` = none);
 * - otherwise comma-separated addresses, CIDRs and proxy-addr's names (`loopback`, `linklocal`,
 *   `uniquelocal`): only hops from those addresses are trusted.
 *
 * Services hand Fastify `trustFunction(value)`, not the value: Fastify itself treats a hop count
 * as "trust nobody", and Socket.IO handshakes must apply the same test as HTTP requests.
 * proxy-addr (what Fastify uses) both checks the addresses here and compiles them, so a value
 * that passes here cannot fail at start.
 *
 * @example
 * trustProxy(readEnv({ TRUST_PROXY: '10.42.0.0/16' })); // '10.42.0.0/16'
 * trustProxy(readEnv({ TRUST_PROXY: '2' }));            // 2
 * trustFunction(2)('10.0.0.1', 1);                       // true: the second-nearest hop
 */
import proxyAddr from '@fastify/proxy-addr';
import type { EnvReader } from './env.js';

export type TrustProxy = boolean | number | string;
export type TrustFunction = (address: string, hop: number) => boolean;

const compiled = new Map<TrustProxy, TrustFunction>();

/** The trust test for a TRUST_PROXY value; throws a TypeError for an address proxy-addr cannot read. */
export function trustFunction(trust: TrustProxy): TrustFunction {
  let fn = compiled.get(trust);
  if (!fn) {
    if (trust === true) fn = () => true;
    else if (trust === false) fn = () => false;
    else if (typeof trust === 'number') fn = (_address, hop) => hop < trust;
    else
      fn = proxyAddr.compile(
        trust
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean),
      );
    compiled.set(trust, fn);
  }
  return fn;
}

/** The parsed value, or an Error saying why the addresses cannot be read. */
export function parseTrustProxy(raw: string): TrustProxy | Error {
  const v = raw.trim();
  if (/^(true|false)$/i.test(v)) return v.toLowerCase() === 'true';
  if (/^\d+$/.test(v)) return Number(v);
  try {
    trustFunction(v);
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
