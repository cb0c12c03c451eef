/**
 * The balancer configuration the load run uses, checked by HAProxy itself (`haproxy -c`), and
 * the figures code that reads HAProxy's stats and computes percentiles. Fast: no services start.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { diffStats, renderConfig, writeConfig, type ServerStats } from '../../bench/load/haproxy.js';
import { percentile, renderChart, summarizeLogins, timeline } from '../../bench/load/report.js';
import type { LoginEvent } from '../../bench/load/traffic.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'faceline-haproxy-cfg-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const layout = {
  dir,
  ingressPort: 18080,
  visionPort: 18082,
  auth: [
    { name: 'auth1', port: 18101 },
    { name: 'auth2', port: 18102 },
  ],
  vision: [
    { name: 'vision1', port: 18201 },
    { name: 'vision2', port: 18202 },
    { name: 'vision3', port: 18203 },
  ],
  web: [{ name: 'web1', port: 18301 }],
  maxFrameBytes: 1_048_576,
};

describe('HAProxy configuration of the load run', () => {
  it('is accepted by haproxy -c', () => {
    const file = writeConfig(layout);
    // throws with HAProxy's own message when the file is invalid
    execFileSync('haproxy', ['-c', '-q', '-f', file], { stdio: 'pipe' });
  });

  it('is accepted in TCP mode for vision (a kube-proxy Service: per connection, no retries)', () => {
    const tcpDir = mkdtempSync(path.join(os.tmpdir(), 'faceline-haproxy-tcp-'));
    try {
      const file = writeConfig({ ...layout, dir: tcpDir, visionMode: 'tcp' });
      execFileSync('haproxy', ['-c', '-q', '-f', file], { stdio: 'pipe' });
      const cfg = renderConfig({ ...layout, dir: tcpDir, visionMode: 'tcp' });
      const vision = cfg.slice(cfg.indexOf('frontend vision'));
      assert.match(vision, /mode tcp/);
      assert.match(vision, /retries 0/);
      assert.doesNotMatch(vision, /retry-on/);
    } finally {
      rmSync(tcpDir, { recursive: true, force: true });
    }
  });

  it('routes like the Ingress and keeps Socket.IO sticky', () => {
    const cfg = renderConfig(layout);
    assert.match(cfg, /acl to_auth path_beg \/api\/ \/socket\.io\/ \/\.well-known\//);
    assert.match(cfg, /default_backend web/);
    assert.match(cfg, /cookie faceline_auth insert indirect nocache httponly/);
    assert.match(cfg, /server auth1 127\.0\.0\.1:18101 check cookie auth1/);
    assert.match(cfg, /timeout tunnel/);
    assert.equal(cfg.match(/option httpchk GET \/readyz/g)?.length, 3);
  });

  it('lets vision requests be retried on another replica, with room to buffer a whole frame', () => {
    const cfg = renderConfig(layout);
    assert.match(cfg, /retry-on conn-failure empty-response response-timeout 503/);
    const bufsize = Number(/tune\.bufsize (\d+)/.exec(cfg)?.[1]);
    assert.ok(bufsize > layout.maxFrameBytes, `bufsize ${bufsize} must exceed the largest frame`);
  });

  it('sends everything to auth when there is no web replica', () => {
    assert.match(renderConfig({ ...layout, web: [] }), /default_backend auth/);
    assert.doesNotMatch(renderConfig({ ...layout, web: [] }), /backend web/);
  });

  it('answers 503 from the balancer itself in the contract error shape', () => {
    writeConfig(layout);
    const raw = readFileSync(path.join(dir, '503.http'), 'utf8');
    const [head, body] = raw.split('\r\n\r\n');
    assert.match(head ?? '', /^HTTP\/1\.1 503/);
    assert.match(head ?? '', /retry-after: 1/i);
    assert.equal(Number(/content-length: (\d+)/i.exec(head ?? '')?.[1]), Buffer.byteLength(body ?? ''));
    assert.deepEqual(JSON.parse(body ?? ''), { error: { code: 'NOT_READY', message: 'no replica is ready; try again', retryable: true } });
  });
});

describe('load figures', () => {
  const s = (server: string, total: number, wretr = 0): ServerStats => ({
    backend: 'vision',
    server,
    status: 'UP',
    total,
    hrsp2xx: total,
    hrsp4xx: 0,
    hrsp5xx: 0,
    econ: 0,
    eresp: 0,
    wretr,
    wredis: 0,
    checkDowns: 0,
  });

  it('takes per-server differences of two stats snapshots', () => {
    const d = diffStats([s('vision1', 10), s('vision2', 5)], [s('vision1', 25, 2), s('vision2', 5), s('vision3', 7)]);
    assert.deepEqual(
      d.map((x) => [x.server, x.total, x.wretr]),
      [
        ['vision1', 15, 2],
        ['vision2', 0, 0],
        ['vision3', 7, 0],
      ],
    );
  });

  it('computes nearest-rank percentiles', () => {
    const v = Array.from({ length: 100 }, (_, i) => i + 1);
    assert.equal(percentile(v, 50), 50);
    assert.equal(percentile(v, 95), 95);
    assert.equal(percentile(v, 99), 99);
    assert.ok(Number.isNaN(percentile([], 50)));
  });

  it('summarises logins by outcome and error code, and bins them per second', () => {
    const ev = (t: number, ok: boolean, ms: number, code?: string): LoginEvent => ({
      t,
      ms,
      ok,
      code,
      phase: 'x',
      replica: 'auth1',
      restarts: 0,
      frameErrors: [],
      frames: 1,
      stages: { connect: 0, start: 0, frames: 0, session: 0 },
    });
    const events = [
      ev(100, true, 200),
      ev(900, true, 400),
      ev(1500, false, 50, 'RECOGNITION_UNAVAILABLE'),
      ev(1600, false, 60, 'RECOGNITION_UNAVAILABLE'),
    ];
    const sum = summarizeLogins(events, 2);
    assert.equal(sum.ok, 2);
    assert.equal(sum.failed, 2);
    assert.equal(sum.perSecond, 1);
    assert.deepEqual(sum.errors, { RECOGNITION_UNAVAILABLE: 2 });
    const tl = timeline(events, 2000);
    assert.deepEqual(
      tl.map((p) => [p.ok, p.failed]),
      [
        [2, 0],
        [0, 2],
      ],
    );
    const svg = renderChart(tl, [{ label: 'a', from: 0, to: 2000 }], 'title <&>', [{ t: 1000, label: 'kill' }]);
    assert.match(svg, /^<svg [^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    assert.match(svg, /title &lt;&amp;&gt;/);
    assert.match(svg, /<\/svg>$/);
  });
});
