// Secrets: generated on first install, read back with `lookup` on upgrades (helm talks to a
// fake API server in this process that holds the previous release's Secrets), explicit
// values and existing Secrets win, and every consumer points at the right key.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  NAMESPACE,
  RELEASE,
  deployment,
  find,
  fullName,
  helmAsync,
  parseManifests,
  podSpec,
  render,
  renderSet,
  templateArgs,
  valuesFile,
  type K8sObject,
} from './chart.js';
import { startFakeApiServer, type FakeApiServer } from './fake-apiserver.js';

const b64 = (s: string | Buffer): string => Buffer.from(s).toString('base64');
const unb64 = (s: string): string => Buffer.from(s, 'base64').toString('utf8');
const envOf = (
  objs: K8sObject[],
  c: string,
): { name: string; value?: string; valueFrom?: { secretKeyRef: { name: string; key: string } } }[] =>
  podSpec(deployment(objs, c)).containers[0].env ?? [];
const secretData = (objs: K8sObject[], name: string): Record<string, string> => find(objs, 'Secret', name).data;
const envValue = (objs: K8sObject[], c: string, name: string): string | undefined => envOf(objs, c).find((e) => e.name === name)?.value;

/** Where each file under /run/secrets/faceline of the auth pod comes from: path -> "secret/key". */
function secretFiles(objs: K8sObject[]): Record<string, string> {
  const spec = podSpec(deployment(objs, 'auth'));
  const mount = spec.containers[0].volumeMounts.find((m: { name: string }) => m.name === 'secrets');
  assert.deepEqual(mount, { name: 'secrets', mountPath: '/run/secrets/faceline', readOnly: true });
  const volume = spec.volumes.find((v: { name: string }) => v.name === 'secrets');
  assert.equal(volume.projected.defaultMode, 0o440);
  const out: Record<string, string> = {};
  for (const src of volume.projected.sources)
    for (const item of src.secret.items) out[`/run/secrets/faceline/${item.path}`] = `${src.secret.name}/${item.key}`;
  return out;
}

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
      templateArgs({
        files: [valuesFile('single-node')],
        set,
        extraArgs: ['--dry-run=server', '--disable-openapi-validation', '--kubeconfig', api.kubeconfig],
      }),
    );
    assert.equal(r.status, 0, r.stderr);
    return parseManifests(r.stdout);
  }

  it('first install: a random 32-byte master key and a random database password', async () => {
    const first = await renderAgainstCluster();
    const second = await renderAgainstCluster();
    assert.ok(
      api.requests.includes(`GET /api/v1/namespaces/${NAMESPACE}/secrets/${fullName('auth')}`),
      'the chart did not look up its Secret',
    );
    const key = unb64(secretData(first, fullName('auth')).FACELINE_MASTER_KEY!);
    assert.equal(Buffer.from(key, 'base64').length, 32, `master key "${key}" is not 32 bytes of base64`);
    const password = unb64(secretData(first, fullName('postgresql')).POSTGRES_PASSWORD!);
    assert.match(password, /^[A-Za-z0-9]{32}$/);
    assert.notEqual(
      secretData(second, fullName('auth')).FACELINE_MASTER_KEY,
      secretData(first, fullName('auth')).FACELINE_MASTER_KEY,
      'two installs share a key',
    );
    for (const name of [fullName('auth'), fullName('postgresql')]) {
      assert.equal(
        find(first, 'Secret', name).metadata.annotations['helm.sh/resource-policy'],
        'keep',
        `${name} would be deleted on uninstall`,
      );
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

  it('secrets reach auth as files named by *_FILE variables, never as env values', () => {
    for (const objs of [
      renderSet('single-node'),
      renderSet('hybrid'),
      render({ set: ['database.mode=external', 'database.external.url=postgres://a:b@h/db'] }),
    ]) {
      for (const e of envOf(objs, 'auth')) assert.equal(e.valueFrom, undefined, `${e.name} comes from a Secret as an env variable`);
      const files = secretFiles(objs);
      for (const e of envOf(objs, 'auth').filter((x) => x.name.endsWith('_FILE')))
        assert.ok(files[e.value!], `${e.name} points at ${e.value}, which is not mounted`);
    }
  });

  it('bundled database: the URL has no password; PGPASSWORD_FILE holds it; postgres reads the same key', () => {
    const objs = renderSet('single-node');
    assert.equal(envValue(objs, 'auth', 'DATABASE_URL'), 'postgres://faceline@fl-faceline-postgresql:5432/faceline');
    assert.equal(envValue(objs, 'auth', 'PGPASSWORD_FILE'), '/run/secrets/faceline/PGPASSWORD');
    assert.equal(envValue(objs, 'auth', 'FACELINE_MASTER_KEY_FILE'), '/run/secrets/faceline/FACELINE_MASTER_KEY');
    assert.deepEqual(secretFiles(objs), {
      '/run/secrets/faceline/FACELINE_MASTER_KEY': 'fl-faceline-auth/FACELINE_MASTER_KEY',
      '/run/secrets/faceline/PGPASSWORD': 'fl-faceline-postgresql/POSTGRES_PASSWORD',
    });
    const pg = podSpec(find(objs, 'StatefulSet', fullName('postgresql')));
    assert.equal(
      pg.containers[0].env.find((e: { name: string }) => e.name === 'POSTGRES_PASSWORD_FILE').value,
      '/run/secrets/postgresql/POSTGRES_PASSWORD',
    );
    const vol = pg.volumes.find((v: { name: string }) => v.name === 'secrets');
    assert.deepEqual(vol.secret, {
      secretName: 'fl-faceline-postgresql',
      defaultMode: 0o440,
      items: [{ key: 'POSTGRES_PASSWORD', path: 'POSTGRES_PASSWORD' }],
    });
  });

  it('external database from an existing Secret (CloudNativePG): no URL in the chart Secret', () => {
    const objs = renderSet('hybrid');
    assert.equal(secretFiles(objs)['/run/secrets/faceline/DATABASE_URL'], 'faceline-db-app/uri');
    assert.equal(envValue(objs, 'auth', 'DATABASE_URL_FILE'), '/run/secrets/faceline/DATABASE_URL');
    assert.equal(envValue(objs, 'auth', 'DATABASE_URL'), undefined);
    assert.deepEqual(Object.keys(secretData(objs, fullName('auth'))), ['FACELINE_MASTER_KEY']);
    assert.equal(objs.filter((o) => o.kind === 'Secret' && o.metadata.name === fullName('postgresql')).length, 0);
  });

  it('external database URL given as a value is stored in the chart Secret', () => {
    const url = 'postgres://faceline:s3cret@db.example.net:5432/faceline?sslmode=require';
    const objs = render({ set: ['database.mode=external', `database.external.url=${url}`] });
    assert.equal(unb64(secretData(objs, fullName('auth')).DATABASE_URL!), url);
    assert.equal(secretFiles(objs)['/run/secrets/faceline/DATABASE_URL'], 'fl-faceline-auth/DATABASE_URL');
    assert.ok(!JSON.stringify(deployment(objs, 'auth')).includes('s3cret'), 'the password leaked into the Deployment');
    assert.throws(() => render({ set: ['database.mode=external', 'database.external.url=mysql://x'] }), /must start with postgres/);
  });

  it('existing Secrets replace the generated ones', () => {
    const objs = render({
      set: [
        'auth.existingSecret=vault-faceline',
        'auth.secretKeys.masterKey=key',
        'postgresql.existingSecret=vault-pg',
        'postgresql.existingSecretKey=pw',
      ],
    });
    assert.equal(objs.filter((o) => o.kind === 'Secret').length, 0, 'the chart still generates a Secret');
    assert.deepEqual(secretFiles(objs), {
      '/run/secrets/faceline/FACELINE_MASTER_KEY': 'vault-faceline/key',
      '/run/secrets/faceline/PGPASSWORD': 'vault-pg/pw',
    });
    const pg = podSpec(find(objs, 'StatefulSet', fullName('postgresql')));
    assert.deepEqual(pg.volumes.find((v: { name: string }) => v.name === 'secrets').secret.items, [
      { key: 'pw', path: 'POSTGRES_PASSWORD' },
    ]);
    assert.equal(pg.volumes.find((v: { name: string }) => v.name === 'secrets').secret.secretName, 'vault-pg');
  });

  it('no secret value appears in a ConfigMap or in plain env values', () => {
    const objs = render({ set: [`auth.masterKey=${b64(Buffer.alloc(32, 9))}`, 'postgresql.password=PlainPassword9'] });
    const text = JSON.stringify(objs.filter((o) => o.kind !== 'Secret'));
    assert.ok(!text.includes(b64(Buffer.alloc(32, 9))), 'master key outside a Secret');
    assert.ok(!text.includes('PlainPassword9'), 'database password outside a Secret');
  });
});
