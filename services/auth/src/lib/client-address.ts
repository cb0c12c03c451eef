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
import type { TrustFunction } from '@faceline/runtime';

// one meaning of TRUST_PROXY for every service (and the same test for HTTP and Socket.IO)
export { trustFunction, type TrustFunction, type TrustProxy } from '@faceline/runtime';

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
  const req = {
    headers: header === undefined ? {} : { 'x-forwarded-for': header },
    socket: { remoteAddress: peer },
    connection: { remoteAddress: peer },
  };
  return plainAddress(proxyAddr(req as unknown as IncomingMessage, trust) ?? peer ?? '');
}
