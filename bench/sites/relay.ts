/**
 * A site's uplink as a TCP relay (this kernel has no netem): every byte that crosses it in either
 * direction is held back by a one-way delay, and the link can be cut.
 *
 * A cut behaves like a WAN that drops every packet, not like a refused connection: bytes sent on
 * open connections vanish, and new connections are accepted but never reach the other side, so
 * the endpoints see silence and must rely on their own timeouts. When the link returns, every
 * connection that lived through the cut is reset (its byte stream has holes), as the TCP
 * timeouts of a real outage of this length would have done, and the endpoints reconnect.
 */
import net from 'node:net';

export interface RelayStats {
  connections: number;
  bytesForwarded: number;
  /** bytes that arrived during a cut and were dropped */
  bytesDropped: number;
  /** connections reset because they lived through a cut */
  resets: number;
}

interface Pipe {
  down: net.Socket;
  up: net.Socket | undefined;
  /** accepted during a cut: held open, never connected */
  held: boolean;
}

/** Writes each chunk `delayMs` after it arrived, in arrival order. */
class DelayedWriter {
  private queue: { due: number; buf: Buffer }[] = [];
  private timer: NodeJS.Timeout | undefined;
  constructor(
    private readonly target: () => net.Socket | undefined,
    private readonly delayMs: () => number,
    private readonly onWrite: (n: number) => void,
  ) {}

  push(buf: Buffer): void {
    this.queue.push({ due: performance.now() + this.delayMs(), buf });
    this.pump();
  }

  clear(): void {
    this.queue = [];
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  pump(): void {
    const sock = this.target();
    if (!sock || sock.connecting || this.timer) return;
    const now = performance.now();
    while (this.queue.length && (this.queue[0] as { due: number }).due <= now) {
      const { buf } = this.queue.shift() as { buf: Buffer };
      if (!sock.destroyed) sock.write(buf);
      this.onWrite(buf.length);
    }
    if (this.queue.length) {
      this.timer = setTimeout(
        () => {
          this.timer = undefined;
          this.pump();
        },
        Math.max(0, (this.queue[0] as { due: number }).due - now),
      );
    }
  }
}

export class Relay {
  delayMs = 0;
  private cut = false;
  private pipes = new Set<Pipe>();
  private server!: net.Server;
  readonly stats: RelayStats = { connections: 0, bytesForwarded: 0, bytesDropped: 0, resets: 0 };
  port = 0;

  private constructor(
    readonly name: string,
    readonly host: string,
    private readonly target: { host: string; port: number },
  ) {}

  static async listen(name: string, host: string, target: { host: string; port: number }): Promise<Relay> {
    const r = new Relay(name, host, target);
    r.server = net.createServer((down) => r.accept(down));
    await new Promise<void>((resolve, reject) => {
      r.server.once('error', reject);
      r.server.listen(0, host, () => resolve());
    });
    r.port = (r.server.address() as net.AddressInfo).port;
    return r;
  }

  get isCut(): boolean {
    return this.cut;
  }

  /** Drop everything from now on (open connections go silent, new ones are held). */
  cutLink(): void {
    this.cut = true;
  }

  /** The link is back: connections that lived through the cut are reset, new ones pass. */
  restore(): void {
    this.cut = false;
    for (const p of [...this.pipes]) {
      this.stats.resets++;
      this.drop(p);
    }
  }

  async close(): Promise<void> {
    for (const p of [...this.pipes]) this.drop(p);
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(down: net.Socket): void {
    this.stats.connections++;
    down.setNoDelay(true);
    const pipe: Pipe = { down, up: undefined, held: this.cut };
    this.pipes.add(pipe);
    // one side gone: the other follows once the bytes still on their way have arrived
    const later = () => setTimeout(() => this.drop(pipe), this.cut ? 0 : this.delayMs + 5);
    down.on('error', later);
    down.on('close', later);
    if (pipe.held) {
      down.on('data', (b: Buffer) => (this.stats.bytesDropped += b.length));
      return;
    }
    const up = net.connect({ host: this.target.host, port: this.target.port });
    up.setNoDelay(true);
    pipe.up = up;
    const toUp = new DelayedWriter(
      () => up,
      () => this.delayMs,
      (n) => (this.stats.bytesForwarded += n),
    );
    const toDown = new DelayedWriter(
      () => down,
      () => this.delayMs,
      (n) => (this.stats.bytesForwarded += n),
    );
    up.on('connect', () => toUp.pump());
    up.on('error', later);
    up.on('close', later);
    const carry = (w: DelayedWriter) => (b: Buffer) => {
      if (this.cut) {
        this.stats.bytesDropped += b.length;
        w.clear();
        return;
      }
      w.push(b);
    };
    down.on('data', carry(toUp));
    up.on('data', carry(toDown));
  }

  private drop(p: Pipe): void {
    if (!this.pipes.delete(p)) return;
    p.down.destroy();
    p.up?.destroy();
  }
}
