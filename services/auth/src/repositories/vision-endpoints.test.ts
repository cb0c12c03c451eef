import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ErrorCode } from '@faceline/contracts';
import { VisionEndpoints, type Resolver } from './vision-endpoints.js';
import { HttpVisionClient } from './vision.repository.js';

/** a resolver under the test's control: answers, fails, or counts calls */
function fakeResolver(answers: Record<string, string[] | Error>): Resolver & { calls: string[] } {
  const calls: string[] = [];
  const fn = async (host: string): Promise<string[]> => {
    calls.push(host);
    const a = answers[host];
    if (a === undefined) throw new Error(`ENOTFOUND ${host}`);
    if (a instanceof Error) throw a;
    return a;
  };
  return Object.assign(fn, { calls });
}

describe('VisionEndpoints', () => {
  it('turns a host name into one endpoint per address, keeping scheme, port and path', async () => {
    const eps = new VisionEndpoints(['http://vision.test:8082'], {
      resolve: fakeResolver({ 'vision.test': ['10.0.0.1', '10.0.0.2', 'fd00::3'] }),
    });
    await eps.ready();
    eps.close();
    assert.deepEqual(
      eps.endpoints().map((e) => e.url),
      ['http://10.0.0.1:8082', 'http://10.0.0.2:8082', 'http://[fd00::3]:8082'],
    );
  });

  it('uses IP literals, localhost and https addresses as written, without asking DNS', async () => {
    const resolve = fakeResolver({});
    const eps = new VisionEndpoints(['http://127.0.0.1:1', 'http://localhost:2', 'http://[::1]:3', 'https://vision.test'], { resolve });
    await eps.ready();
    eps.close();
    assert.deepEqual(resolve.calls, []);
    assert.deepEqual(
      eps.endpoints().map((e) => e.url),
      ['http://127.0.0.1:1', 'http://localhost:2', 'http://[::1]:3', 'https://vision.test'],
    );
  });

  it('keeps the last known addresses when resolution fails or comes back empty, and the URL itself before any answer', async () => {
    const answers: Record<string, string[] | Error> = { 'vision.test': new Error('EAI_AGAIN') };
    const eps = new VisionEndpoints(['http://vision.test:8082'], { resolve: fakeResolver(answers) });
    await eps.ready();
    eps.close();
    assert.deepEqual(
      eps.endpoints().map((e) => e.url),
      ['http://vision.test:8082'],
    );
    answers['vision.test'] = ['10.0.0.1', '10.0.0.2'];
    await eps.refresh();
    assert.deepEqual(
      eps.endpoints().map((e) => e.url),
      ['http://10.0.0.1:8082', 'http://10.0.0.2:8082'],
    );
    answers['vision.test'] = new Error('EAI_AGAIN');
    await eps.refresh();
    assert.deepEqual(
      eps.endpoints().map((e) => e.url),
      ['http://10.0.0.1:8082', 'http://10.0.0.2:8082'],
    );
    answers['vision.test'] = [];
    await eps.refresh();
    assert.deepEqual(
      eps.endpoints().map((e) => e.url),
      ['http://10.0.0.1:8082', 'http://10.0.0.2:8082'],
    );
    answers['vision.test'] = ['10.0.0.2', '10.0.0.3'];
    await eps.refresh();
    assert.deepEqual(
      eps.endpoints().map((e) => e.url),
      ['http://10.0.0.2:8082', 'http://10.0.0.3:8082'],
    );
  });

  it('resolves again every refreshMs', async () => {
    const resolve = fakeResolver({ 'vision.test': ['10.0.0.1'] });
    const eps = new VisionEndpoints(['http://vision.test:8082'], { resolve, refreshMs: 20 });
    await eps.ready();
    // waits for the timer, not a fixed time: a busy machine only makes it slower
    for (let waited = 0; resolve.calls.length < 3 && waited < 5000; waited += 10) await new Promise((r) => setTimeout(r, 10));
    eps.close();
    assert.ok(resolve.calls.length >= 3, `resolved ${resolve.calls.length} times`);
  });

  it('picks the endpoint with the fewest requests in flight', async () => {
    const eps = new VisionEndpoints(['http://vision.test:8082'], {
      resolve: fakeResolver({ 'vision.test': ['10.0.0.1', '10.0.0.2', '10.0.0.3'] }),
    });
    await eps.ready();
    eps.close();
    const [a, b, c] = eps.endpoints();
    a!.inFlight = 3;
    b!.inFlight = 1;
    c!.inFlight = 2;
    for (let i = 0; i < 5; i++) assert.equal(eps.pick(), b);
    assert.equal(eps.pick(new Set([b!])), c, 'the next least busy one when the first was tried');
    assert.equal(eps.pick(new Set([a!, b!, c!])), undefined);
  });

  it('takes turns among endpoints with as many requests in flight', async () => {
    const eps = new VisionEndpoints(['http://vision.test:8082'], {
      resolve: fakeResolver({ 'vision.test': ['10.0.0.1', '10.0.0.2', '10.0.0.3'] }),
    });
    await eps.ready();
    eps.close();
    const picked = Array.from({ length: 6 }, () => eps.pick()!.url);
    assert.deepEqual(picked, [
      'http://10.0.0.1:8082',
      'http://10.0.0.2:8082',
      'http://10.0.0.3:8082',
      'http://10.0.0.1:8082',
      'http://10.0.0.2:8082',
      'http://10.0.0.3:8082',
    ]);
  });

  it('keeps counting a request in flight on an endpoint across a refresh', async () => {
    const answers: Record<string, string[] | Error> = { 'vision.test': ['10.0.0.1', '10.0.0.2'] };
    const eps = new VisionEndpoints(['http://vision.test:8082'], { resolve: fakeResolver(answers) });
    await eps.ready();
    eps.close();
    eps.endpoints()[0]!.inFlight = 2;
    answers['vision.test'] = ['10.0.0.2', '10.0.0.1'];
    await eps.refresh();
    assert.equal(eps.endpoints().find((e) => e.url === 'http://10.0.0.1:8082')!.inFlight, 2);
  });
});

/**
 * Vision replicas as real HTTP servers on 127.0.0.1, .2 and .3 (all loopback on Linux) sharing one
 * port, so a fake resolver can hand out their addresses for one name exactly as DNS would for a
 * headless Service.
 */
describe('HttpVisionClient against local replicas', () => {
  const hits = [0, 0, 0];
  const behaviour: Array<'ok' | 'slow' | 'overloaded'> = ['ok', 'ok', 'ok'];
  const servers: http.Server[] = [];
  let port = 0;
  const addresses = ['127.0.0.1', '127.0.0.2', '127.0.0.3'];

  const listen = (i: number, host: string, p: number): Promise<http.Server> =>
    new Promise((resolve, reject) => {
      const s = http.createServer((req, res) => {
        req.resume();
        req.on('end', () => {
          hits[i]!++;
          const answer = (): void => {
            if (behaviour[i] === 'overloaded') {
              res.writeHead(503, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { code: 'OVERLOADED' } }));
            } else {
              res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ faces: [], replica: i }));
            }
          };
          if (behaviour[i] === 'slow') setTimeout(answer, 250);
          else setTimeout(answer, 5);
        });
      });
      s.once('error', reject);
      s.listen(p, host, () => resolve(s));
    });

  before(async () => {
    servers.push(await listen(0, addresses[0]!, 0));
    port = (servers[0]!.address() as AddressInfo).port;
    servers.push(await listen(1, addresses[1]!, port));
    servers.push(await listen(2, addresses[2]!, port));
  });

  after(async () => {
    for (const s of servers) {
      s.closeAllConnections();
      await new Promise((r) => s.close(r));
    }
  });

  const reset = (b: typeof behaviour): void => {
    behaviour.splice(0, 3, ...b);
    hits.fill(0);
  };

  const client = (names: Record<string, string[] | Error>): HttpVisionClient =>
    new HttpVisionClient([`http://vision.test:${port}`], 2000, undefined, { resolve: fakeResolver(names) });

  it('moves on to another replica on a 503 and on a refused connection', async () => {
    reset(['overloaded', 'ok', 'ok']);
    // 127.0.0.4 has nobody listening: a replica that went away
    const c = client({ 'vision.test': ['127.0.0.1', '127.0.0.4', '127.0.0.2'] });
    for (let i = 0; i < 6; i++) {
      const r = (await c.analyze(new Uint8Array([0xff, 0xd8]))) as unknown as { replica: number };
      assert.equal(r.replica, 1);
    }
    c.close();
    assert.equal(hits[1], 6);
    assert.ok(hits[0]! >= 1, 'the overloaded replica was asked');
    assert.ok(
      c.endpoints.endpoints().every((e) => e.inFlight === 0),
      'nothing left counted in flight',
    );
  });

  it('answers RECOGNITION_UNAVAILABLE when no replica answers', async () => {
    reset(['overloaded', 'overloaded', 'overloaded']);
    const c = client({ 'vision.test': ['127.0.0.1', '127.0.0.2', '127.0.0.3', '127.0.0.4'] });
    await assert.rejects(
      c.analyze(new Uint8Array([0xff, 0xd8])),
      (err: { code?: string }) => err.code === ErrorCode.RECOGNITION_UNAVAILABLE,
    );
    c.close();
    assert.deepEqual(hits, [1, 1, 1], 'each replica asked once');
  });

  it('sends concurrent requests mostly to the fast replicas when one is slow', async () => {
    reset(['ok', 'slow', 'ok']);
    const c = client({ 'vision.test': addresses });
    const total = 90;
    let sent = 0;
    const worker = async (): Promise<void> => {
      while (sent < total) {
        sent++;
        await c.analyze(new Uint8Array([0xff, 0xd8]));
      }
    };
    await Promise.all(Array.from({ length: 6 }, worker));
    c.close();
    const share = hits.map((h) => h / total);
    // per-connection balancing would give the slow replica a third; least-in-flight starves it
    assert.ok(share[1]! < 0.15, `slow replica got ${(share[1]! * 100).toFixed(1)} % (${hits.join('/')})`);
    assert.ok(share[0]! > 0.3 && share[2]! > 0.3, `fast replicas ${hits.join('/')}`);
  });
});
