/**
 * The plant network: the hub and each site in its own Linux network namespace, each joined to
 * the harness's namespace (the "WAN router", where the uplink relays run) by a veth pair with a
 * /30 of its own. A namespace has no route anywhere else, so a site can reach the hub only through
 * its relay, and a cut relay really isolates it. The harness itself, standing where the plant's
 * own network would be, reaches every location's services directly over the veth.
 *
 * Without root (no `ip netns`), every location gets its own loopback address (127.x.y.2, relays on
 * 127.x.y.1) instead: the same relays carry the same traffic, but nothing stops a misconfigured
 * process from going around them, and the run says so.
 */
import { execFile } from 'node:child_process';
import { userInfo } from 'node:os';
import { promisify } from 'node:util';
import { freePortOn } from '@faceline/testkit';

const run = promisify(execFile);

export type LocationName = 'hub' | 'a' | 'b';

export interface Location {
  name: LocationName;
  /** network namespace (netns mode) */
  ns: string | undefined;
  /** the address this location's services listen on */
  addr: string;
  /** the harness side of the link: where this location's processes find the relays */
  gateway: string;
  /** prefix for commands that must run inside the location */
  wrap: string[];
}

export class Topology {
  private constructor(
    readonly mode: 'netns' | 'loopback',
    readonly locations: Record<LocationName, Location>,
    private readonly links: string[],
  ) {}

  get hub(): Location {
    return this.locations.hub;
  }

  get a(): Location {
    return this.locations.a;
  }

  get b(): Location {
    return this.locations.b;
  }

  /**
   * Namespaces when root and `ip netns` work, loopback addresses otherwise;
   * FACELINE_SITES_NETWORK=loopback chooses the fallback on purpose (to try it as root).
   */
  static async create(log: (m: string) => void): Promise<Topology> {
    const id = `${process.pid % 100000}`;
    const octet = 100 + Math.floor(Math.random() * 150);
    const wanted = process.env.FACELINE_SITES_NETWORK ?? 'auto';
    if (wanted !== 'loopback' && userInfo().uid === 0 && (await canUseNetns())) {
      const taken = (await run('ip', ['-4', 'addr'])).stdout;
      let second = octet;
      while (taken.includes(`10.${second}.`)) second = 100 + ((second + 1) % 150);
      const locations = {} as Record<LocationName, Location>;
      const links: string[] = [];
      const names: LocationName[] = ['hub', 'a', 'b'];
      try {
        for (const [i, name] of names.entries()) {
          const ns = `fls${id}${name}`;
          const host = `fl${id}${name}0`;
          const peer = `fl${id}${name}1`;
          const gateway = `10.${second}.${i}.1`;
          const addr = `10.${second}.${i}.2`;
          await run('ip', ['netns', 'add', ns]);
          links.push(ns);
          await run('ip', ['link', 'add', host, 'type', 'veth', 'peer', 'name', peer]);
          await run('ip', ['link', 'set', peer, 'netns', ns]);
          await run('ip', ['addr', 'add', `${gateway}/30`, 'dev', host]);
          await run('ip', ['link', 'set', host, 'up']);
          await run('ip', ['netns', 'exec', ns, 'ip', 'addr', 'add', `${addr}/30`, 'dev', peer]);
          await run('ip', ['netns', 'exec', ns, 'ip', 'link', 'set', peer, 'up']);
          await run('ip', ['netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up']);
          locations[name] = { name, ns, addr, gateway, wrap: ['ip', 'netns', 'exec', ns] };
        }
      } catch (err) {
        await new Topology('netns', locations, links).destroy();
        throw err;
      }
      log(
        `network: namespaces ${links.join(', ')}, links 10.${second}.{0,1,2}.0/30 (hub, site A, site B); sites reach the hub only through their relays`,
      );
      return new Topology('netns', locations, links);
    }
    const locations = {} as Record<LocationName, Location>;
    for (const [i, name] of (['hub', 'a', 'b'] as LocationName[]).entries()) {
      locations[name] = { name, ns: undefined, addr: `127.${octet}.${i}.2`, gateway: `127.${octet}.${i}.1`, wrap: [] };
    }
    log(
      `network: NOT isolated (${wanted === 'loopback' ? 'FACELINE_SITES_NETWORK=loopback' : 'no root or no ip netns'}): hub and sites on loopback addresses 127.${octet}.{0,1,2}.2 behind the same relays; a process could still go around them`,
    );
    return new Topology('loopback', locations, []);
  }

  /** A port for a service of this location: fixed inside its own namespace, free on loopback. */
  async port(loc: Location, fixed: number): Promise<number> {
    if (this.mode === 'netns') return fixed;
    return freePortOn(loc.addr);
  }

  async destroy(): Promise<void> {
    // deleting a namespace removes its end of the veth pair, and with it the other end
    for (const ns of this.links.reverse()) await run('ip', ['netns', 'del', ns]).catch(() => undefined);
  }
}

async function canUseNetns(): Promise<boolean> {
  const probe = `flsprobe${process.pid % 100000}`;
  try {
    await run('ip', ['netns', 'add', probe]);
    await run('ip', ['netns', 'del', probe]);
    return true;
  } catch {
    return false;
  }
}
