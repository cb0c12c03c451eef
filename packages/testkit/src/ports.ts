/**
 * A port that is free now, for a child process that must be told its port up front (PostgreSQL,
 * a service started with PORT=…). Another process may take it before the child binds, so prefer
 * port 0 whenever the code under test can report the port it got.
 *
 * @example
 * const port = await freePort();              // on 127.0.0.1
 * const sitePort = await freePortOn('10.77.1.2'); // on an address of a network namespace's link
 */
import net from 'node:net';

export function freePortOn(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    // a probe that is still open must not keep a finished test run alive
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, host, () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

export function freePort(): Promise<number> {
  return freePortOn('127.0.0.1');
}
