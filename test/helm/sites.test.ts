// Hub and sites in the chart (docs/sites.md): the auth mode and its settings, the secrets of the
// replication link, the site database configured as a publisher and subscriber, and the checks that
// refuse a half-configured site.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { deployment, find, fullName, podSpec, render, renderSet, valuesFile, type K8sObject } from './chart.js';

const unb64 = (s: string): string => Buffer.from(s, 'base64').toString('utf8');
const config = (objs: K8sObject[]): Record<string, string> => find(objs, 'ConfigMap', fullName('auth')).data;
const env = (objs: K8sObject[]): Record<string, string> =>
  Object.fromEntries(
    (podSpec(deployment(objs, 'auth')).containers[0].env ?? []).map((e: { name: string; value?: string }) => [e.name, e.value ?? '']),
  );
/** file under /run/secrets/faceline -> "secret/key" */
function files(objs: K8sObject[]): Record<string, string> {
  const vol = podSpec(deployment(objs, 'auth')).volumes.find((v: { name: string }) => v.name === 'secrets');
  const out: Record<string, string> = {};
  for (const src of vol.projected.sources) for (const item of src.secret.items) out[item.path] = `${src.secret.name}/${item.key}`;
  return out;
}

describe('helm chart: hub and sites', () => {
  it('single mode stays as it was: no replication settings, no extra secrets, a plain database', () => {
    const objs = renderSet('single-node');
    assert.equal(config(objs).AUTH_MODE, 'single');
    for (const k of ['SITE_ID', 'HUB_HEARTBEAT_SECONDS', 'REPLICATION_SETUP']) assert.equal(config(objs)[k], undefined, k);
    assert.equal(find(objs, 'StatefulSet', fullName('postgresql')).spec.template.spec.containers[0].args, undefined);
    assert.equal(objs.filter((o) => o.kind === 'Secret' && /-(hub|hub-sites|replication)$/.test(o.metadata.name)).length, 0);
  });

  it('site.yaml: auth in site mode with its name, staleness limit, the hub from a Secret and the shared master key', () => {
    const objs = renderSet('site');
    const site = parse(readFileSync(valuesFile('site'), 'utf8'));
    assert.equal(config(objs).AUTH_MODE, 'site');
    assert.equal(config(objs).SITE_ID, site.auth.site.id);
    assert.equal(config(objs).SITE_MAX_STALENESS_SECONDS, '86400');
    assert.equal(config(objs).REPLICATION_SETUP, 'auto');
    assert.equal(env(objs).HUB_DATABASE_URL_FILE, '/run/secrets/faceline/HUB_DATABASE_URL');
    assert.equal(env(objs).HUB_REPLICATION_URL_FILE, '/run/secrets/faceline/HUB_REPLICATION_URL');
    assert.deepEqual(files(objs), {
      FACELINE_MASTER_KEY: 'faceline-master-key/FACELINE_MASTER_KEY',
      PGPASSWORD: 'fl-faceline-postgresql/POSTGRES_PASSWORD',
      HUB_DATABASE_URL: 'faceline-hub/HUB_DATABASE_URL',
      HUB_REPLICATION_URL: 'faceline-hub/HUB_REPLICATION_URL',
    });
  });

  it('site.yaml: the bundled database publishes and subscribes (wal_level=logical), creates the replication role once, and is reachable by the hub', () => {
    const objs = renderSet('site');
    const sts = find(objs, 'StatefulSet', fullName('postgresql'));
    const c = sts.spec.template.spec.containers[0];
    assert.equal(c.args[0], 'postgres');
    assert.ok(c.args.join(' ').includes('-c wal_level=logical'), c.args.join(' '));
    assert.ok(c.args.join(' ').includes('-c max_replication_slots='));
    const init = find(objs, 'ConfigMap', `${fullName('postgresql')}-init`).data['replication-role.sh'] as string;
    assert.match(init, /CREATE ROLE :"role" LOGIN REPLICATION PASSWORD :'pw'/);
    assert.match(init, /ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO :"role"/);
    assert.match(init, /-v role="replicator"/);
    assert.deepEqual(
      c.volumeMounts.find((m: { name: string }) => m.name === 'init'),
      { name: 'init', mountPath: '/docker-entrypoint-initdb.d', readOnly: true },
    );
    const secrets = sts.spec.template.spec.volumes
      .find((v: { name: string }) => v.name === 'secrets')
      .projected.sources.map((s: { secret: { name: string; items: { key: string }[] } }) => `${s.secret.name}/${s.secret.items[0]!.key}`);
    assert.deepEqual(secrets, ['fl-faceline-postgresql/POSTGRES_PASSWORD', 'fl-faceline-replication/REPLICATION_PASSWORD']);
    const repl = find(objs, 'Secret', 'fl-faceline-replication');
    assert.equal(repl.metadata.annotations['helm.sh/resource-policy'], 'keep');
    assert.equal(unb64(repl.data.REPLICATION_PASSWORD).length, 32);
    const svc = find(objs, 'Service', fullName('postgresql'));
    assert.equal(svc.spec.type, 'LoadBalancer');
    assert.deepEqual(svc.spec.loadBalancerSourceRanges, ['10.100.0.0/24']);
  });

  it('a site given the hub URL gets a chart Secret with both hub URLs', () => {
    const objs = render({
      files: [valuesFile('site')],
      set: [
        'auth.site.existingSecret=',
        'auth.site.hubUrl=postgres://faceline:pw@hub.example.com:5432/faceline?sslmode=require',
        'auth.site.hubReplicationUrl=postgres://replicator:rp@hub.example.com:5432/faceline',
      ],
    });
    const s = find(objs, 'Secret', 'fl-faceline-hub').data;
    assert.equal(unb64(s.HUB_DATABASE_URL), 'postgres://faceline:pw@hub.example.com:5432/faceline?sslmode=require');
    assert.equal(unb64(s.HUB_REPLICATION_URL), 'postgres://replicator:rp@hub.example.com:5432/faceline');
    assert.equal(files(objs).HUB_DATABASE_URL, 'fl-faceline-hub/HUB_DATABASE_URL');
    const same = render({ files: [valuesFile('site')], set: ['auth.site.existingSecret=', 'auth.site.hubUrl=postgres://a@hub:5432/f'] });
    assert.equal(unb64(find(same, 'Secret', 'fl-faceline-hub').data.HUB_REPLICATION_URL), 'postgres://a@hub:5432/f');
  });

  it('hub.yaml: auth in hub mode with its heartbeat and the sites from a Secret; given a list, the chart writes one name=url per line', () => {
    const objs = renderSet('hub');
    assert.equal(config(objs).AUTH_MODE, 'hub');
    assert.equal(config(objs).HUB_HEARTBEAT_SECONDS, '5');
    assert.equal(env(objs).HUB_SITES_FILE, '/run/secrets/faceline/HUB_SITES');
    assert.equal(files(objs).HUB_SITES, 'faceline-hub-sites/HUB_SITES');
    const listed = render({
      files: [valuesFile('hub')],
      set: [
        'auth.hub.existingSecret=',
        'auth.hub.sites[0].name=line-7',
        'auth.hub.sites[0].url=postgres://replicator:a@10.107.7.5:5432/faceline',
        'auth.hub.sites[1].name=line-8',
        'auth.hub.sites[1].url=postgres://replicator:b@10.107.8.5:5432/faceline',
      ],
    });
    assert.equal(
      unb64(find(listed, 'Secret', 'fl-faceline-hub-sites').data.HUB_SITES),
      'line-7=postgres://replicator:a@10.107.7.5:5432/faceline\nline-8=postgres://replicator:b@10.107.8.5:5432/faceline',
    );
    assert.equal(files(listed).HUB_SITES, 'fl-faceline-hub-sites/HUB_SITES');
  });

  it('REPLICATION_SETUP=off for CloudNativePG-managed publications and subscriptions', () => {
    assert.equal(config(render({ files: [valuesFile('hub')], set: ['auth.replicationSetup=off'] })).REPLICATION_SETUP, 'off');
  });

  it('refuses a half-configured site, settings of another mode, and bad site names', () => {
    assert.throws(
      () => render({ set: ['auth.mode=site'] }),
      /auth.mode=site needs auth.site.id[\s\S]*auth.mode=site needs auth.site.hubUrl or auth.site.existingSecret/,
    );
    assert.throws(() => render({ set: ['auth.site.id=line-7'] }), /auth.site.\* is only used with auth.mode=site/);
    assert.throws(() => render({ files: [valuesFile('site')], set: ['auth.hub.existingSecret=x'] }), /only used with auth.mode=hub/);
    assert.throws(() => render({ files: [valuesFile('site')], set: ['auth.site.id=Line_7'] }), /auth.site.id/);
    assert.throws(() => render({ set: ['auth.mode=cluster'] }), /auth.mode/);
  });
});
