// What Faceline needs from k3s itself: the Traefik HelmChartConfig that keeps client addresses,
// and a site cluster (edge-site.yaml) whose LoadBalancer can come up on stock k3s.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { ROOT, RELEASE, CHART, find, helm, renderSet, valuesFile } from './chart.js';

const TRAEFIK_CONFIG = path.join(ROOT, 'deploy', 'k3s', 'traefik-config.yaml');

describe('k3s: Traefik keeps client addresses', () => {
  it('ships a HelmChartConfig that k3s applies to its Traefik and that sets externalTrafficPolicy Local', () => {
    const doc = parse(readFileSync(TRAEFIK_CONFIG, 'utf8')) as {
      apiVersion: string;
      kind: string;
      metadata: { name: string; namespace: string };
      spec: { valuesContent: string };
    };
    assert.equal(doc.apiVersion, 'helm.cattle.io/v1');
    assert.equal(doc.kind, 'HelmChartConfig');
    // k3s merges a HelmChartConfig only into the HelmChart of the same name and namespace
    assert.deepEqual(doc.metadata, { name: 'traefik', namespace: 'kube-system' });
    assert.deepEqual(Object.keys(doc.spec), ['valuesContent']);
    const values = parse(doc.spec.valuesContent) as { service?: { spec?: Record<string, unknown> } };
    // the Traefik chart copies service.spec into its Service
    assert.equal(values.service?.spec?.externalTrafficPolicy, 'Local');
  });

  it('the install notes and the cluster guide point to it', () => {
    const r = helm(['install', RELEASE, CHART, '--namespace', 'faceline', '--dry-run=client', '-f', valuesFile('hybrid')]);
    assert.equal(r.status, 0, r.stderr);
    const notes = r.stdout.slice(r.stdout.indexOf('NOTES:'));
    assert.match(notes, /externalTrafficPolicy: Local/);
    assert.match(notes, /deploy\/k3s\/traefik-config\.yaml/);
    assert.match(notes, /auth trusts X-Forwarded-For from 10\.42\.0\.0\/16/);
    const guide = readFileSync(path.join(ROOT, 'docs', 'kubernetes.md'), 'utf8');
    assert.match(guide, /deploy\/k3s\/traefik-config\.yaml/);
    const edge = helm(['install', RELEASE, CHART, '--namespace', 'faceline', '--dry-run=client', '-f', valuesFile('edge-site')]);
    assert.doesNotMatch(edge.stdout.slice(edge.stdout.indexOf('NOTES:')), /traefik-config/, 'a site without an Ingress needs no Traefik setting');
  });

  it('the chart LoadBalancer keeps client addresses too', () => {
    const lb = find(renderSet('edge-site'), 'Service', `${RELEASE}-faceline-lb`);
    assert.equal(lb.spec.externalTrafficPolicy, 'Local');
  });
});
