// Secrets: generated on first install, read back with `lookup` on upgrades (helm talks to a
// fake API server in this process that holds the previous release's Secrets), explicit
// values and existing Secrets win, and every consumer points at the right key.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { NAMESPACE, RELEASE, deployment, find, fullName, helmAsync, parseManifests, podSpec, render, renderSet, templateArgs, valuesFile, type K8sObject } from './chart.js';
import { startFakeApiServer, type FakeApiServer } from './fake-apiserver.js';

const b64 = (s: string | Buffer): string => Buffer.from(s).toString('base64');
const unb64 = (s: string): string => Buffer.from(s, 'base64').toString('utf8');
const envOf = (objs: K8sObject[], c: string): { name: string; value?: string; valueFrom?: { secretKeyRef: { name: string; key: string } } }[] =>
  podSpec(deployment(objs, c)).containers[0].env ?? [];
const secretData = (objs: K8sObject[], name: string): Record<string, string> => find(objs, 'Secret', name).data;

/** A Secret as the previous release left it (Helm's ownership labels, so the upgrade may take it over). */
function previous(name: string, data: Record<string, string>): Parameters<FakeApiServer['put']>[0] {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name,
      namespace: NAMESPACE,
      labels: { 'app.kubernetes.io/managed-by': 'Helm' },
      annotations: { 'meta.helm.sh/release-name': RELEASE, 'meta.helm.sh/release-namespace': NAMESPACE },
    },
    data,
  } as Parameters<FakeApiServer['put']>[0];
}

describe('helm chart: secrets', () => {
  let api: FakeApiServer;
  before(async () => {
    api = await startFakeApiServer();
  });
  after(async () => {
    await api?.close();
  });

  async function renderAgainstCluster(set: string[] = []): Promise<K8sObject[]> {
    const r = await helmAsync(
      templateArgs({ files: [valuesFile('single-node')], set, extraArgs: ['--dry-run=server', '--disable-openapi-validation', '--kubeconfig', api.kubeconfig] }),
    );
    assert.equal(r.status, 0, r.stderr);
    return parseManifests(r.stdout);
  }

  it('first install: a random 32-byte master key and a random database password', async () => {
    const first = await renderAgainstCluster();
    const second = await renderAgainstCluster();
    assert.ok(api.requests.includes(`GET /api/v1/namespaces/${NAMESPACE}/secrets/${fullName('auth')}`), 'the chart did not look up its Secret');
    const key = unb64(secretData(first, fullName('auth')).FACELINE_MASTER_KEY!);
    assert.equal(Buffer.from(key, 'base64').length, 32, `master key "${key}" is not 32 bytes of base64`);
    const password = unb64(secretData(first, fullName('postgresql')).POSTGRES_PASSWORD!);
    assert.match(password, /^[A-Za-z0-9]{32}$/);
    assert.notEqual(secretData(second, fullName('auth')).FACELINE_MASTER_KEY, secretData(first, fullName('auth')).FACELINE_MASTER_KEY, 'two installs share a key');
    for (const name of [fullName('auth'), fullName('postgresql')]) {
      assert.equal(find(first, 'Secret', name).metadata.annotations['helm.sh/resource-policy'], 'keep', `${name} would be deleted on uninstall`);
    }
  });

  it('upgrade: the existing master key and password are kept, explicit values still win', async () => {
    const key = b64(Buffer.alloc(32, 42));
    api.put(previous(fullName('auth'), { FACELINE_MASTER_KEY: b64(key) }));
    api.put(previous(fullName('postgresql'), { POSTGRES_PASSWORD: b64('KeptPassword123') }));
    const upgraded = await renderAgainstCluster();
    assert.equal(unb64(secretData(upgraded, fullName('auth')).FACELINE_MASTER_KEY!), key);
    assert.equal(unb64(secretData(upgraded, fullName('postgresql')).POSTGRES_PASSWORD!), 'KeptPassword123');
    const explicit = b64(Buffer.alloc(32, 7));
    const overridden = await renderAgainstCluster([`auth.masterKey=${explicit}`]);
    assert.equal(unb64(secretData(overridden, fullName('auth')).FACELINE_MASTER_KEY!), explicit);
  });

  it('without a cluster (helm template) a fresh value is rendered each time', () => {
    const a = secretData(render(), fullName('auth')).FACELINE_MASTER_KEY;
    const b = secretData(render(), fullName('auth')).FACELINE_MASTER_KEY;
    assert.notEqual(a, b);
  });

  it('bundled database: auth builds DATABASE_URL from the password Secret, declared before it is used', () => {
    const objs = renderSet('single-node');
    const env = envOf(objs, 'auth');
    const names = env.map((e) => e.name);
    assert.deepEqual(env.find((e) => e.name === 'FACELINE_DATABASE_PASSWORD')?.valueFrom, {
      secretKeyRef: { name: fullName('postgresql'), key: 'POSTGRES_PASSWORD' },
    });
    assert.equal(env.find((e) => e.name === 'DATABASE_URL')?.value, 'postgres://faceline:$(FACELINE_DATABASE_PASSWORD)@fl-faceline-postgresql:5432/faceline');
    assert.ok(names.indexOf('FACELINE_DATABASE_PASSWORD') < names.indexOf('DATABASE_URL'), 'Kubernetes expands $(VAR) only from earlier entries');
    assert.deepEqual(env.find((e) => e.name === 'FACELINE_MASTER_KEY')?.valueFrom, { secretKeyRef: { name: fullName('auth'), key: 'FACELINE_MASTER_KEY' } });
    const pgEnv = podSpec(find(objs, 'StatefulSet', fullName('postgresql'))).containers[0].env;
    assert.deepEqual(pgEnv.find((e: { name: string }) => e.name === 'POSTGRES_PASSWORD').valueFrom, {
      secretKeyRef: { name: fullName('postgresql'), key: 'POSTGRES_PASSWORD' },
    });
  });

  it('external database from an existing Secret (CloudNativePG): no URL in the chart Secret', () => {
    const objs = renderSet('hybrid');
    assert.deepEqual(envOf(objs, 'auth').find((e) => e.name === 'DATABASE_URL')?.valueFrom, { secretKeyRef: { name: 'faceline-db-app', key: 'uri' } });
    assert.deepEqual(Object.keys(secretData(objs, fullName('auth'))), ['FACELINE_MASTER_KEY']);
    assert.equal(objs.filter((o) => o.kind === 'Secret' && o.metadata.name === fullName('postgresql')).length, 0);
  });

  it('external database URL given as a value is stored in the chart Secret', () => {
    const url = 'postgres://faceline:s3cret@db.example.net:5432/faceline?sslmode=require';
    const objs = render({ set: ['database.mode=external', `database.external.url=${url}`] });
    assert.equal(unb64(secretData(objs, fullName('auth')).DATABASE_URL!), url);
    assert.deepEqual(envOf(objs, 'auth').find((e) => e.name === 'DATABASE_URL')?.valueFrom, { secretKeyRef: { name: fullName('auth'), key: 'DATABASE_URL' } });
    assert.ok(!JSON.stringify(deployment(objs, 'auth')).includes('s3cret'), 'the password leaked into the Deployment');
    assert.throws(() => render({ set: ['database.mode=external', 'database.external.url=mysql://x'] }), /must start with postgres/);
  });

  it('existing Secrets replace the generated ones', () => {
    const objs = render({
      set: ['auth.existingSecret=vault-faceline', 'auth.secretKeys.masterKey=key', 'postgresql.existingSecret=vault-pg', 'postgresql.existingSecretKey=pw'],
    });
    assert.equal(objs.filter((o) => o.kind === 'Secret').length, 0, 'the chart still generates a Secret');
    const env = envOf(objs, 'auth');
    assert.deepEqual(env.find((e) => e.name === 'FACELINE_MASTER_KEY')?.valueFrom, { secretKeyRef: { name: 'vault-faceline', key: 'key' } });
    assert.deepEqual(env.find((e) => e.name === 'FACELINE_DATABASE_PASSWORD')?.valueFrom, { secretKeyRef: { name: 'vault-pg', key: 'pw' } });
    const pgEnv = podSpec(find(objs, 'StatefulSet', fullName('postgresql'))).containers[0].env;
    assert.deepEqual(pgEnv.find((e: { name: string }) => e.name === 'POSTGRES_PASSWORD').valueFrom, { secretKeyRef: { name: 'vault-pg', key: 'pw' } });
  });

  it('no secret value appears in a ConfigMap or in plain env values', () => {
    const objs = render({ set: [`auth.masterKey=${b64(Buffer.alloc(32, 9))}`, 'postgresql.password=PlainPassword9'] });
    const text = JSON.stringify(objs.filter((o) => o.kind !== 'Secret'));
    assert.ok(!text.includes(b64(Buffer.alloc(32, 9))), 'master key outside a Secret');
    assert.ok(!text.includes('PlainPassword9'), 'database password outside a Secret');
  });
});
