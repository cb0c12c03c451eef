// Whose address auth's per-address login limits count. The TRUST_PROXY values the chart renders
// are fed to the services' own config parsers and to Fastify (which auth and web hand them to),
// and requests take the path they take in the cluster: through Traefik (which drops a client's
// X-Forwarded-For and appends the address it saw) or, in LoadBalancer mode, through web's real
// proxy to auth. A client that writes its own X-Forwarded-For must never choose the address.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Fastify from 'fastify';
import { loadConfig as loadAuthConfig } from '@faceline/auth';
import { buildApp as buildWeb, loadConfig as loadWebConfig } from '@faceline/web';
import { trustFunction } from '../../services/auth/src/lib/client-address.js';
import { VALUE_SETS, find, fullName, render, renderRaw, renderSet, valuesFile, type K8sObject } from './chart.js';

const CLIENT = '203.0.113.7';
const FORGED = '6.6.6.6';
const TRAEFIK_POD = '10.42.0.15';
const WEB_POD = '10.42.1.20';

const configMap = (objs: K8sObject[], c: string): Record<string, string> => find(objs, 'ConfigMap', fullName(c)).data;

/** The client address auth takes for a request from `peer` carrying `xff`, with the rendered TRUST_PROXY. */
async function authSees(objs: K8sObject[], peer: string, xff?: string): Promise<string> {
  // the database addresses reach auth as mounted secret files, not through the ConfigMap
  const cm = configMap(objs, 'auth');
  const secrets =
    cm.AUTH_MODE && cm.AUTH_MODE !== 'single'
      ? { DATABASE_URL: 'postgres://f@db/f', ...(cm.AUTH_MODE === 'site' ? { HUB_DATABASE_URL: 'postgres://f@hub/f' } : {}) }
      : {};
  const { trustProxy } = loadAuthConfig({ ...cm, ...secrets, LOG_LEVEL: 'silent' });
  // as services/auth/src/app.ts builds it
  const app = Fastify({ trustProxy: trustFunction(trustProxy) });
  app.get('/api/whoami', async (req) => req.ip);
  try {
    const res = await app.inject({ url: '/api/whoami', remoteAddress: peer, headers: xff ? { 'x-forwarded-for': xff } : {} });
    return res.body;
  } finally {
    await app.close();
  }
}

/** What Traefik forwards by default: X-Forwarded-For from untrusted peers is dropped, then the peer appended. */
const throughTraefik = (clientPeer: string): string => clientPeer;
/** A Traefik told to trust every X-Forwarded-For (forwardedHeaders.insecure): it appends to the client's. */
const throughTrustingTraefik = (clientPeer: string, clientXff: string): string => `${clientXff}, ${clientPeer}`;

const publicDir = mkdtempSync(path.join(tmpdir(), 'faceline-proxy-trust-'));
writeFileSync(path.join(publicDir, 'index.html'), '<!doctype html><title>t</title>');

/**
 * LoadBalancer mode: the client talks to web, and web's real proxy forwards to auth. The stand-in
 * for auth records what web sent; auth's view of it is then computed as if it came from web's pod.
 */
async function authSeesThroughWeb(objs: K8sObject[], clientXff?: string): Promise<string> {
  let received: string | undefined;
  const upstream = Fastify();
  upstream.get('/api/whoami', async (req) => {
    received = req.headers['x-forwarded-for'] as string | undefined;
    return 'ok';
  });
  await upstream.listen({ host: '127.0.0.1', port: 0 });
  const webCm = configMap(objs, 'web');
  assert.ok(webCm.AUTH_URL, 'web does not forward to auth in this value set');
  const config = loadWebConfig({
    ...webCm,
    AUTH_URL: `http://127.0.0.1:${(upstream.server.address() as AddressInfo).port}`,
    WEB_PUBLIC_DIR: publicDir,
    LOG_LEVEL: 'silent',
  });
  const { app: web } = await buildWeb({ config });
  try {
    const res = await web.inject({ url: '/api/whoami', remoteAddress: CLIENT, headers: clientXff ? { 'x-forwarded-for': clientXff } : {} });
    assert.equal(res.statusCode, 200, res.body);
  } finally {
    await web.close();
    await upstream.close();
  }
  return authSees(objs, WEB_POD, received);
}

describe('helm chart: client addresses behind the ingress controller and the LoadBalancer', () => {
  after(() => rmSync(publicDir, { recursive: true, force: true }));

  it('auth trusts the private ranges, where every common cluster puts its pods, unless a value set narrows them to its pod CIDR', () => {
    assert.equal(configMap(render(), 'auth').TRUST_PROXY, '10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,100.64.0.0/10,fc00::/7');
    for (const set of VALUE_SETS)
      assert.ok(configMap(renderSet(set), 'auth').TRUST_PROXY!.includes('10.42.0.0/16') || set === 'cloud-only', set);
  });

  it('auth behind the ingress controller or web: its pod address is trusted in every value set, so clients are not all counted as the proxy', async () => {
    for (const set of VALUE_SETS) {
      const objs = renderSet(set);
      // the proxy's own peer, i.e. what it wrote: a client, whatever private or public address it has
      for (const client of [CLIENT, '192.168.7.21', '10.8.0.5'])
        assert.equal(await authSees(objs, TRAEFIK_POD, client), client, `${set}: ${client}`);
    }
  });

  for (const set of ['single-node', 'hybrid', 'cloud-only'] as const) {
    it(`${set} (Ingress): auth counts the address Traefik saw, whatever the client writes into X-Forwarded-For`, async () => {
      const objs = renderSet(set);
      assert.equal(await authSees(objs, TRAEFIK_POD, throughTraefik(CLIENT)), CLIENT);
      // even a Traefik that passes client headers on cannot be used to pick an address
      assert.equal(await authSees(objs, TRAEFIK_POD, throughTrustingTraefik(CLIENT, FORGED)), CLIENT);
      assert.equal(await authSees(objs, TRAEFIK_POD, throughTrustingTraefik(CLIENT, `${FORGED}, 7.7.7.7`)), CLIENT);
    });
  }

  it('edge-site (LoadBalancer): web does not trust X-Forwarded-For, so auth counts the client it really talks to', async () => {
    const objs = renderSet('edge-site');
    assert.equal(configMap(objs, 'web').TRUST_PROXY, 'false');
    assert.equal(await authSeesThroughWeb(objs, FORGED), CLIENT);
    assert.equal(await authSeesThroughWeb(objs, `${FORGED}, 7.7.7.7`), CLIENT);
    assert.equal(await authSeesThroughWeb(objs), CLIENT);
  });

  it('web.trustProxy=auto: true behind the Ingress, false as soon as the LoadBalancer makes web an entry point', () => {
    for (const set of ['single-node', 'hybrid', 'cloud-only'] as const)
      assert.equal(configMap(renderSet(set), 'web').TRUST_PROXY, 'true', set);
    assert.equal(configMap(render({ set: ['loadBalancer.enabled=true', 'ingress.enabled=false'] }), 'web').TRUST_PROXY, 'false');
    assert.equal(
      configMap(render({ set: ['loadBalancer.enabled=true'] }), 'web').TRUST_PROXY,
      'false',
      'Ingress and LoadBalancer together',
    );
    assert.equal(configMap(render({ files: [valuesFile('edge-site')], set: ['web.trustProxy=auto'] }), 'web').TRUST_PROXY, 'false');
  });

  it('refuses web.trustProxy=true with the LoadBalancer unless a proxy in front is declared, and then honours it', async () => {
    for (const args of [
      { set: ['loadBalancer.enabled=true', 'ingress.enabled=false', 'web.trustProxy=true'] },
      { files: [valuesFile('edge-site')], set: ['web.trustProxy=true'] },
    ]) {
      const r = renderRaw(args);
      assert.notEqual(r.status, 0, 'rendered a web that believes any client');
      assert.match(r.stderr, /web\.trustProxy=true with loadBalancer\.enabled: clients reach web directly/);
      assert.match(r.stderr, /loadBalancer\.trustForwardedHeaders=true/);
    }
    const optIn = render({ files: [valuesFile('edge-site')], set: ['web.trustProxy=true', 'loadBalancer.trustForwardedHeaders=true'] });
    assert.equal(configMap(optIn, 'web').TRUST_PROXY, 'true');
    assert.equal(configMap(render({ set: ['web.trustProxy=false'] }), 'web').TRUST_PROXY, 'false');
  });

  it('auth.trustProxy passes addresses and CIDRs through to TRUST_PROXY and refuses anything else', async () => {
    const cidr = render({ set: ['auth.trustProxy=10.42.0.0/16'] });
    assert.equal(configMap(cidr, 'auth').TRUST_PROXY, '10.42.0.0/16');
    assert.equal(await authSees(cidr, TRAEFIK_POD, throughTrustingTraefik(CLIENT, FORGED)), CLIENT);
    assert.equal(await authSees(cidr, '192.0.2.1', FORGED), '192.0.2.1', 'a peer outside the trusted range is the client itself');
    const outer = render({ set: ['auth.trustProxy=10.42.0.0/16\\,198.51.100.4'] });
    assert.equal(configMap(outer, 'auth').TRUST_PROXY, '10.42.0.0/16,198.51.100.4');
    assert.equal(
      await authSees(outer, TRAEFIK_POD, `${FORGED}, ${CLIENT}, 198.51.100.4`),
      CLIENT,
      'a second proxy in front: the address it saw',
    );
    for (const bad of ['auth.trustProxy=-1', 'auth.trustProxy=10.42.0.0/16;rm', 'auth.trustProxy=a b'])
      assert.notEqual(renderRaw({ set: [bad] }).status, 0, bad);
  });

  it('refuses hop counts and false for auth, which would count every client as the proxy (one attacker locks out the plant)', async () => {
    // a hop count trusts whatever sits that many hops in front, whatever its address: a client
    // that reaches auth directly names its own address
    assert.equal(
      await authSees(
        [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: fullName('auth') }, data: { TRUST_PROXY: '1' } }],
        '192.0.2.9',
        FORGED,
      ),
      FORGED,
    );
    for (const value of ['1', '2', 'false']) {
      const r = renderRaw({ set: [`auth.trustProxy=${value}`] });
      assert.notEqual(r.status, 0, `auth.trustProxy=${value} was accepted`);
      assert.match(r.stderr, new RegExp(`auth\\.trustProxy=${value}: .*lock out everyone`));
    }
  });
});
