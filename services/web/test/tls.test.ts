import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { buildApp, loadConfig } from '../src/index.js';

/** A throw-away self-signed certificate for 127.0.0.1 (openssl, as an operator would make one). */
function makeCert(dir: string): { cert: string; key: string } {
  const cert = path.join(dir, 'cert.pem');
  const key = path.join(dir, 'key.pem');
  const res = spawnSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
      '-keyout',
      key,
      '-out',
      cert,
    ],
    { encoding: 'utf8' },
  );
  if (res.status !== 0) throw new Error(`openssl could not make a test certificate: ${res.stderr || res.error}`);
  return { cert, key };
}

describe('web service over TLS', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'faceline-web-tls-'));
  writeFileSync(path.join(dir, 'index.html'), '<!doctype html><title>t</title>');
  let app: FastifyInstance;
  let port: number;
  let ca: Buffer;

  before(async () => {
    const { cert, key } = makeCert(dir);
    ca = readFileSync(cert);
    app = (await buildApp({ config: loadConfig({ WEB_PUBLIC_DIR: dir, TLS_CERT_FILE: cert, TLS_KEY_FILE: key }) })).app;
    await app.listen({ host: '127.0.0.1', port: 0 });
    port = (app.server.address() as AddressInfo).port;
  });
  after(async () => {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves HTTPS with HSTS and upgrade-insecure-requests', async () => {
    const res = await new Promise<{ status: number; headers: Record<string, string | string[] | undefined> }>((resolve, reject) => {
      https
        .get({ host: '127.0.0.1', port, path: '/', ca, headers: { accept: 'text/html' } }, (r) => {
          r.resume();
          resolve({ status: r.statusCode ?? 0, headers: r.headers });
        })
        .on('error', reject);
    });
    assert.equal(res.status, 200);
    assert.match(String(res.headers['strict-transport-security']), /max-age=15552000/);
    assert.match(String(res.headers['content-security-policy']), /upgrade-insecure-requests/);
  });
});
