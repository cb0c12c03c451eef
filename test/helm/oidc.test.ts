// Sign in with Faceline in the chart: the issuer comes from publicUrl (or the Ingress), client
// registrations from values or an existing Secret reach auth as a file, /oidc is routed to
// auth, and mistakes are refused at render time.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'yaml';
import { deployment, find, fullName, podSpec, render, renderRaw, renderSet, type K8sObject } from './chart.js';

const SECRET = 'grafana-secret-0123456789abcdefghijkl';
const grafana = [
  'oidc.clients[0].clientId=grafana',
  `oidc.clients[0].clientSecret=${SECRET}`,
  'oidc.clients[0].redirectUris[0]=https://grafana.example.com/login/generic_oauth',
  'oidc.clients[0].firstParty=true',
];

const authConfig = (objs: K8sObject[]) => find(objs, 'ConfigMap', fullName('auth')).data as Record<string, string>;
const authEnv = (objs: K8sObject[]) =>
  Object.fromEntries(podSpec(deployment(objs, 'auth')).containers[0].env.map((e: { name: string; value?: string }) => [e.name, e.value]));
const secretVolume = (objs: K8sObject[]) =>
  podSpec(deployment(objs, 'auth')).volumes.find((v: { projected?: unknown }) => v.projected)?.projected.sources as {
    secret: { name: string; items: { key: string; path: string }[] };
  }[];

describe('helm chart: Sign in with Faceline', () => {
  it('the issuer is publicUrl; without it, the Ingress address', () => {
    assert.equal(authConfig(renderSet('hybrid')).PUBLIC_URL, 'https://login.example.com');
    assert.equal(authConfig(renderSet('single-node')).PUBLIC_URL, 'http://faceline.local');
    assert.equal(authConfig(render({ set: ['oidc.enabled=false', 'publicUrl=https://a.example'] })).OIDC, 'false');
    assert.equal(authConfig(renderSet('hybrid')).OIDC, undefined, 'on by default: auth decides from PUBLIC_URL');
  });

  it('client registrations from values: a Secret mounted as a file, never in the environment; pods roll when they change', () => {
    const objs = render({ files: [], set: ['publicUrl=https://login.example.com', ...grafana] });
    const secret = find(objs, 'Secret', fullName('oidc-clients'));
    const file = parse(Buffer.from(secret.data['clients.yaml'], 'base64').toString('utf8')) as { clients: Record<string, unknown>[] };
    assert.deepEqual(file.clients[0], {
      clientId: 'grafana',
      clientSecret: SECRET,
      redirectUris: ['https://grafana.example.com/login/generic_oauth'],
      firstParty: true,
    });
    assert.equal(authEnv(objs).OIDC_CLIENTS_FILE, '/run/secrets/faceline/OIDC_CLIENTS');
    assert.ok(
      !JSON.stringify(podSpec(deployment(objs, 'auth')).containers[0].env).includes(SECRET),
      'the secret is not in the environment',
    );
    assert.ok(!JSON.stringify(find(objs, 'ConfigMap', fullName('auth'))).includes(SECRET), 'nor in the ConfigMap');
    const source = secretVolume(objs).find((s) => s.secret.name === fullName('oidc-clients'));
    assert.deepEqual(source?.secret.items, [{ key: 'clients.yaml', path: 'OIDC_CLIENTS' }]);
    const checksum = (o: K8sObject[]) => JSON.stringify(deployment(o, 'auth').spec.template.metadata.annotations);
    const other = render({
      set: [
        'publicUrl=https://login.example.com',
        ...grafana.slice(0, 2),
        'oidc.clients[0].redirectUris[0]=https://grafana.example.com/other',
      ],
    });
    assert.notEqual(checksum(objs), checksum(other), 'a changed registration rolls the auth pods');
  });

  it('client registrations from an existing Secret', () => {
    const objs = render({
      set: ['publicUrl=https://login.example.com', 'oidc.existingSecret=line-apps', 'oidc.existingSecretKey=apps.yaml'],
    });
    assert.throws(() => find(objs, 'Secret', fullName('oidc-clients')));
    const source = secretVolume(objs).find((s) => s.secret.name === 'line-apps');
    assert.deepEqual(source?.secret.items, [{ key: 'apps.yaml', path: 'OIDC_CLIENTS' }]);
    assert.equal(authEnv(objs).OIDC_CLIENTS_FILE, '/run/secrets/faceline/OIDC_CLIENTS');
  });

  it('refuses registrations without an issuer, half-made clients and both sources at once', () => {
    const noIssuer = renderRaw({ set: ['ingress.hostname=', ...grafana] });
    assert.notEqual(noIssuer.status, 0);
    assert.match(noIssuer.stderr, /oidc needs publicUrl/);
    const confused = renderRaw({
      set: [
        'publicUrl=https://a.example',
        'oidc.existingSecret=x',
        'oidc.clients[0].clientId=a',
        'oidc.clients[0].public=true',
        `oidc.clients[0].clientSecret=${SECRET}`,
        'oidc.clients[0].redirectUris[0]=https://a.example/cb',
        'oidc.clients[1].clientId=b',
        'oidc.clients[1].redirectUris[0]=https://b.example/cb',
      ],
    });
    assert.notEqual(confused.status, 0);
    assert.match(confused.stderr, /not both/);
    assert.match(confused.stderr, /oidc client a: a public client has no clientSecret/);
    assert.match(confused.stderr, /oidc client b: set clientSecret/);
    const badSchema = renderRaw({
      set: [
        'publicUrl=https://a.example',
        'oidc.clients[0].clientId=a',
        'oidc.clients[0].loginMode=everyone',
        'oidc.clients[0].public=true',
        'oidc.clients[0].redirectUris[0]=https://a.example/cb',
      ],
    });
    assert.notEqual(badSchema.status, 0);
    assert.match(badSchema.stderr, /loginMode/);
  });

  it('the helm test checks discovery only when the provider is on', () => {
    const env = (objs: K8sObject[]) => podSpec(find(objs, 'Pod', fullName('test'))).containers[0].env.map((e: { name: string }) => e.name);
    assert.ok(env(renderSet('hybrid')).includes('OIDC_ISSUER'));
    assert.ok(!env(render({ set: ['oidc.enabled=false', 'publicUrl=https://a.example'] })).includes('OIDC_ISSUER'));
  });
});
