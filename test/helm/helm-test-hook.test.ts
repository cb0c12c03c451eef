// The `helm test` pod: its script is taken from the rendered Pod and run with Node against
// local HTTP servers standing in for web and auth, so a broken check fails here rather
// than on a customer's cluster.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { find, fullName, podSpec, renderSet } from './chart.js';

const pod = find(renderSet('hybrid'), 'Pod', fullName('test'));
const container = podSpec(pod).containers[0];

type Routes = Record<string, [number, unknown]>;

async function serve(routes: Routes): Promise<{ url: string; hits: string[]; close: () => Promise<void> }> {
  const hits: string[] = [];
  const server = http.createServer((req, res) => {
    hits.push(req.url ?? '');
    const [status, body] = routes[req.url ?? ''] ?? [404, { error: 'not found' }];
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, hits, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

async function runHook(
  web: Routes,
  auth: Routes,
  env: Record<string, string> = {},
): Promise<{ code: number; out: string; webHits: string[]; authHits: string[] }> {
  const w = await serve(web);
  const a = await serve(auth);
  try {
    const child = spawn(process.execPath, [...container.command.slice(1), ...container.args], {
      env: { PATH: process.env.PATH, WEB_URL: w.url, AUTH_URL: a.url, ...env },
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const code = await new Promise<number>((resolve) => child.on('close', (c) => resolve(c ?? 1)));
    return { code, out, webHits: w.hits, authHits: a.hits };
  } finally {
    await w.close();
    await a.close();
  }
}

const healthy = { status: 'ok', service: 'x', version: '0.1.0' };
const jwks = { keys: [{ kty: 'EC', kid: 'k1', crv: 'P-256', x: 'a', y: 'b', use: 'sig', alg: 'ES256' }] };
const goodWeb: Routes = { '/healthz': [200, healthy] };
const goodAuth: Routes = { '/healthz': [200, healthy], '/readyz': [200, healthy], '/.well-known/jwks.json': [200, jwks] };

describe('helm chart: the helm test hook', () => {
  it('is a test hook that runs Node from the auth image and addresses the Services', () => {
    assert.equal(pod.metadata.annotations['helm.sh/hook'], 'test');
    assert.equal(podSpec(pod).restartPolicy, 'Never');
    assert.deepEqual(container.command, ['node', '-e']);
    assert.equal(container.image, 'ghcr.io/faceline/auth:0.1.0');
    const env = Object.fromEntries(container.env.map((e: { name: string; value: string }) => [e.name, e.value]));
    assert.deepEqual(env, {
      WEB_URL: 'http://fl-faceline-web:8080',
      AUTH_URL: 'http://fl-faceline-auth:8081',
      OIDC_ISSUER: 'https://login.example.com',
    });
  });

  it('passes when web and auth are healthy, auth is ready and the JWKS has public keys', async () => {
    const r = await runHook(goodWeb, goodAuth);
    assert.equal(r.code, 0, r.out);
    assert.deepEqual(r.webHits, ['/healthz']);
    assert.deepEqual(r.authHits, ['/healthz', '/readyz', '/.well-known/jwks.json']);
    assert.match(r.out, /JWKS has 1 key/);
  });

  it('fails when auth is not ready', async () => {
    const r = await runHook(goodWeb, { ...goodAuth, '/readyz': [503, { status: 'unavailable' }] });
    assert.equal(r.code, 1);
    assert.match(r.out, /readyz answered 503/);
  });

  it('fails when the JWKS document is missing, empty or publishes a private key', async () => {
    for (const [body, message] of [
      [undefined, /jwks\.json answered 404/],
      [{ keys: [] }, /JWKS document has no keys/],
      [{ keys: [{ ...jwks.keys[0], d: 'secret' }] }, /publishes a private key/],
    ] as const) {
      const auth: Routes = { ...goodAuth };
      if (body === undefined) delete auth['/.well-known/jwks.json'];
      else auth['/.well-known/jwks.json'] = [200, body];
      const r = await runHook(goodWeb, auth);
      assert.equal(r.code, 1, r.out);
      assert.match(r.out, message);
    }
  });

  const issuer = 'https://login.example.com';
  const discovery = {
    issuer,
    authorization_endpoint: `${issuer}/oidc/auth`,
    token_endpoint: `${issuer}/oidc/token`,
    jwks_uri: `${issuer}/.well-known/jwks.json`,
    response_types_supported: ['code'],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: ['ES256', 'RS256'],
  };

  it('with Sign in with Faceline on, fetches the discovery document and checks issuer and required fields', async () => {
    const r = await runHook(goodWeb, { ...goodAuth, '/.well-known/openid-configuration': [200, discovery] }, { OIDC_ISSUER: issuer });
    assert.equal(r.code, 0, r.out);
    assert.deepEqual(r.authHits, ['/healthz', '/readyz', '/.well-known/jwks.json', '/.well-known/openid-configuration']);
    assert.match(r.out, /OpenID Connect discovery for https:\/\/login\.example\.com/);
    for (const [doc, message] of [
      [undefined, /openid-configuration answered 404/],
      [{ ...discovery, issuer: 'http://fl-faceline-auth:8081' }, /expected https:\/\/login\.example\.com/],
      [{ ...discovery, jwks_uri: undefined }, /lacks jwks_uri/],
      [{ ...discovery, id_token_signing_alg_values_supported: ['ES256'] }, /RS256/],
    ] as const) {
      const auth: Routes = { ...goodAuth };
      if (doc) auth['/.well-known/openid-configuration'] = [200, doc];
      const bad = await runHook(goodWeb, auth, { OIDC_ISSUER: issuer });
      assert.equal(bad.code, 1, bad.out);
      assert.match(bad.out, message);
    }
  });

  it('fails when web is down', async () => {
    const r = await runHook({}, goodAuth);
    assert.equal(r.code, 1);
    assert.match(r.out, /healthz answered 404/);
  });
});
