import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { freePort, freePortOn } from './ports.js';

test('freePort returns a port that can be bound on 127.0.0.1', async () => {
  const port = await freePort();
  assert.ok(port > 0 && port < 65536);
  const srv = net.createServer();
  await new Promise<void>((resolve, reject) => srv.once('error', reject).listen(port, '127.0.0.1', resolve));
  assert.equal((srv.address() as net.AddressInfo).port, port);
  await new Promise((resolve) => srv.close(resolve));
});

test('freePortOn fails for an address this machine does not have', async () => {
  await assert.rejects(freePortOn('192.0.2.1'), /EADDRNOTAVAIL/);
});
