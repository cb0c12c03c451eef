// What Faceline needs from k3s itself: the Traefik HelmChartConfig that keeps client addresses,
// and a site cluster (edge-site.yaml) whose LoadBalancer can come up on stock k3s.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { ROOT, RELEASE, CHART, find, helm, podSpec, renderSet, valuesFile, type K8sObject } from './chart.js';

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
    assert.doesNotMatch(
      edge.stdout.slice(edge.stdout.indexOf('NOTES:')),
      /traefik-config/,
      'a site without an Ingress needs no Traefik setting',
    );
  });

  it('the chart LoadBalancer keeps client addresses too', () => {
    const lb = find(renderSet('edge-site'), 'Service', `${RELEASE}-faceline-lb`);
    assert.equal(lb.spec.externalTrafficPolicy, 'Local');
  });
});

interface Expression {
  key: string;
  operator: string;
  values?: string[];
}

/** Does the pod's required node affinity accept a node with these labels? */
function admits(spec: K8sObject, labels: Record<string, string>): boolean {
  const terms: { matchExpressions: Expression[] }[] =
    spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? [];
  if (terms.length === 0) return true;
  return terms.some((t) =>
    t.matchExpressions.every((e) => {
      const has = Object.hasOwn(labels, e.key);
      if (e.operator === 'In') return has && e.values!.includes(labels[e.key]!);
      if (e.operator === 'NotIn') return !has || !e.values!.includes(labels[e.key]!);
      if (e.operator === 'Exists') return has;
      if (e.operator === 'DoesNotExist') return !has;
      throw new Error(`operator ${e.operator}`);
    }),
  );
}

/** The k3s config.yaml the guide gives for a site cluster. */
function siteClusterConfig(): { disable?: string[]; 'node-label'?: string[]; 'node-taint'?: string[] } {
  const guide = readFileSync(path.join(ROOT, 'docs', 'kubernetes.md'), 'utf8');
  const marker = guide.indexOf('<!-- site cluster k3s config');
  assert.ok(marker >= 0, 'site cluster k3s config missing from docs/kubernetes.md');
  const block = guide.slice(marker).match(/```yaml\n([\s\S]*?)```/);
  assert.ok(block?.[1]);
  return parse(block[1]) as ReturnType<typeof siteClusterConfig>;
}

describe('k3s: a site cluster (edge-site.yaml) comes up on stock k3s', () => {
  const objs = renderSet('edge-site');
  const config = siteClusterConfig();
  const nodeLabels = Object.fromEntries((config['node-label'] ?? []).map((l) => l.split('=') as [string, string]));
  const workloads = objs.filter((o) => ['Deployment', 'StatefulSet'].includes(o.kind));

  it('the LoadBalancer port is free: Traefik, whose ServiceLB pods hold 80 and 443 on every node, is disabled or the port differs', () => {
    const lb = find(objs, 'Service', `${RELEASE}-faceline-lb`);
    const traefikPorts = (config.disable ?? []).includes('traefik') ? [] : [80, 443];
    for (const p of lb.spec.ports as { port: number }[])
      assert.ok(!traefikPorts.includes(p.port), `port ${p.port} collides with Traefik's svclb`);
    assert.deepEqual(config.disable, ['traefik']);
    assert.equal(lb.spec.ports[0].port, 80, 'terminals open http://<node>/');
  });

  it('site nodes carry no taint, since svclb, CoreDNS and metrics-server would not tolerate it, and every pod fits an untainted node with the site label', () => {
    assert.equal(config['node-taint'], undefined, 'the site cluster config taints its nodes');
    assert.deepEqual(nodeLabels, { 'faceline.io/site': 'line-7' });
    assert.ok(workloads.length >= 4);
    for (const w of workloads) {
      const spec = podSpec(w);
      assert.ok(admits(spec, nodeLabels), `${w.metadata.name} does not fit a site node labelled as the guide says`);
      assert.ok(!admits(spec, { 'faceline.io/site': 'line-8' }), `${w.metadata.name} would run at another site`);
      const edgeTolerations = (spec.tolerations ?? []).filter((t: { key?: string }) => !String(t.key).startsWith('node.kubernetes.io/'));
      assert.deepEqual(edgeTolerations, [], `${w.metadata.name} still tolerates an edge taint the site does not have`);
    }
  });

  it('the guide explains why and how', () => {
    const guide = readFileSync(path.join(ROOT, 'docs', 'kubernetes.md'), 'utf8');
    assert.match(guide, /### A site cluster/);
    assert.match(guide, /svclb[\s\S]{0,200}CoreDNS[\s\S]{0,40}metrics-server/);
    assert.match(readFileSync(valuesFile('edge-site'), 'utf8'), /disable: \[traefik\]/);
  });
});
