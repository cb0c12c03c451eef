/**
 * The vision replicas behind the configured VISION_URL entries, one endpoint per address.
 *
 * A Kubernetes ClusterIP Service balances per TCP connection, and auth keeps connections alive,
 * so frames stuck to whichever replica a connection landed on (61/23/15 % in the load report)
 * and the busiest one answered 503 while others had room. Resolving the host ourselves (a
 * headless Service returns every ready pod) lets each request go to the replica with the
 * fewest requests in flight.
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';

/** host name → its addresses (IPv4 or IPv6 literals) */
export type Resolver = (host: string) => Promise<string[]>;

export const dnsResolver: Resolver = async (host) => (await lookup(host, { all: true })).map((a) => a.address);

export interface Endpoint {
  /** base URL to call, the host replaced by one resolved address */
  readonly url: string;
  inFlight: number;
}

export interface EndpointOptions {
  resolve?: Resolver;
  /** how often names are resolved again; 5 s follows pods coming and going without loading DNS */
  refreshMs?: number;
}

interface Source {
  base: URL;
  /** null: used as written (IP literal, localhost, https) */
  host: string | null;
  /** last known addresses; empty until the first successful resolution */
  addresses: string[];
}

function withAddress(base: URL, address: string): string {
  const u = new URL(base.href);
  u.hostname = isIP(address) === 6 ? `[${address}]` : address;
  return u.href.replace(/\/$/, '');
}

export class VisionEndpoints {
  private readonly sources: Source[];
  private readonly resolve: Resolver;
  private readonly refreshMs: number;
  private readonly known = new Map<string, Endpoint>();
  private list: Endpoint[] = [];
  private next = 0;
  private timer: NodeJS.Timeout | undefined;
  private first: Promise<void> | undefined;

  constructor(urls: string[], opts: EndpointOptions = {}) {
    if (urls.length === 0) throw new Error('no vision address');
    this.resolve = opts.resolve ?? dnsResolver;
    this.refreshMs = opts.refreshMs ?? 5000;
    this.sources = urls.map((raw) => {
      const base = new URL(raw);
      const name = base.hostname.replace(/^\[|\]$/g, '');
      // TLS certificates name the host, so an https address is not swapped for its IPs
      const asIs = isIP(name) !== 0 || name === 'localhost' || base.protocol === 'https:';
      return { base, host: asIs ? null : name, addresses: [] };
    });
    this.rebuild();
  }

  /** Resolves every name once; a failed or empty answer keeps the last known addresses. */
  async refresh(): Promise<void> {
    await Promise.all(
      this.sources.map(async (s) => {
        if (s.host === null) return;
        try {
          const found = [...new Set(await this.resolve(s.host))];
          if (found.length > 0) s.addresses = found;
        } catch {
          // DNS hiccup: the replicas we knew a moment ago are the best guess
        }
      }),
    );
    this.rebuild();
  }

  private rebuild(): void {
    const urls: string[] = [];
    for (const s of this.sources) {
      if (s.host === null || s.addresses.length === 0) urls.push(s.base.href.replace(/\/$/, ''));
      else for (const a of s.addresses) urls.push(withAddress(s.base, a));
    }
    const list: Endpoint[] = [];
    for (const url of new Set(urls)) {
      // the same object across refreshes, so requests still in flight are counted
      let ep = this.known.get(url);
      if (!ep) this.known.set(url, (ep = { url, inFlight: 0 }));
      list.push(ep);
    }
    for (const [url, ep] of this.known) if (ep.inFlight === 0 && !list.includes(ep)) this.known.delete(url);
    this.list = list;
  }

  /** Resolves before the first call and then every refreshMs in the background. */
  ready(): Promise<void> {
    if (!this.first) {
      this.first = this.refresh();
      if (this.sources.some((s) => s.host !== null)) {
        this.timer = setInterval(() => void this.refresh(), this.refreshMs);
        this.timer.unref();
      }
    }
    return this.first;
  }

  close(): void {
    clearInterval(this.timer);
  }

  endpoints(): readonly Endpoint[] {
    return this.list;
  }

  /**
   * The endpoint with the fewest requests in flight, leaving out those already tried; among equals
   * the one after the last pick, so an idle set is used in turn.
   */
  pick(tried: ReadonlySet<Endpoint> = new Set()): Endpoint | undefined {
    const n = this.list.length;
    let best: Endpoint | undefined;
    let bestAt = 0;
    for (let i = 0; i < n; i++) {
      const at = (this.next + i) % n;
      const ep = this.list[at]!;
      if (tried.has(ep)) continue;
      if (!best || ep.inFlight < best.inFlight) {
        best = ep;
        bestAt = at;
      }
    }
    if (best) this.next = bestAt + 1;
    return best;
  }
}
