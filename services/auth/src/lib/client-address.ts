/**
 * Who the client is, for HTTP and Socket.IO alike: the connection's peer, or, when TRUST_PROXY
 * trusts that peer, the address the proxies report in X-Forwarded-For, read from the nearest hop
 * outwards and stopping at the first hop that is not trusted. One implementation (proxy-addr,
 * the one Fastify uses) so that both apply TRUST_PROXY the same way:
 *
 * - `false`: the peer, whatever the headers say;
 * - `true`: every hop is trusted (the leftmost address): only behind a proxy that overwrites the header;
 * - a hop count `n`: the `n` nearest hops are trusted, whatever their address;
 * - addresses, CIDRs and proxy-addr's names (`loopback`, `linklocal`, `uniquelocal`),
 *   comma-separated: only hops from those addresses are trusted. A client that reaches auth
 *   directly cannot choose its own address with a made-up header.
 *
 * @example
 * const trust = trustFunction('10.0.0.0/8');
 * clientAddress('10.1.2.3', '203.0.113.9', trust); // '203.0.113.9' (through a trusted proxy)
 * clientAddress('198.51.100.7', '203.0.113.9', trust); // '198.51.100.7' (direct: header ignored)
 */
import type { IncomingMessage } from 'node:http';
import proxyAddr from '@fastify/proxy-addr';

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
    else fn = proxyAddr.compile(trust.split(',').map((s) => s.trim()).filter(Boolean));
    compiled.set(trust, fn);
  }
  return fn;
}

/** IPv4 peers of a dual-stack socket come as ::ffff:a.b.c.d; logs and counters use a.b.c.d. */
export function plainAddress(address: string): string {
  return address.replace(/^::ffff:/, '');
}

/**
 * The client's address from the connection's peer and its X-Forwarded-For header. Socket.IO
 * keeps both from the handshake (`handshake.address`, `handshake.headers`); Fastify's `req.ip`
 * gives the same answer when it is built with the same trust function (see app.ts).
 */
export function clientAddress(peer: string | undefined, forwardedFor: string | string[] | undefined, trust: TrustFunction): string {
  const header = Array.isArray(forwardedFor) ? forwardedFor.join(', ') : forwardedFor;
  const req = { headers: header === undefined ? {} : { 'x-forwarded-for': header }, socket: { remoteAddress: peer }, connection: { remoteAddress: peer } };
  return plainAddress(proxyAddr(req as unknown as IncomingMessage, trust) ?? peer ?? '');
}
