// Rancher's Apps and Fleet install the chart with values of their own under `global`
// (global.cattle.*, global.systemDefaultRegistry, global.fleet.clusterLabels). The schema must let
// them through, and the registry Rancher names for clusters behind a private mirror must be used
// for every image, as Rancher's own charts do.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { CHART, FIXTURES, find, fullName, helm, podSpec, render, renderRaw, valuesFile, type K8sObject } from './chart.js';

const injected = path.join(FIXTURES, 'rancher-injected.yaml');

/** Every container image of every workload and the helm test pod. */
function images(objs: K8sObject[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const o of objs.filter((x) => ['Deployment', 'StatefulSet', 'Pod'].includes(x.kind))) {
    for (const c of podSpec(o).containers) out[`${o.metadata.name}/${c.name}`] = c.image;
  }
  return out;
}

describe('helm chart: Rancher and Fleet installs', () => {
  it('passes helm lint --strict with the values Rancher and Fleet inject, alone and on top of each value set', () => {
    for (const files of [[injected], [valuesFile('edge-site'), injected], [valuesFile('hybrid'), injected]]) {
      const r = helm(['lint', '--strict', CHART, ...files.flatMap((f) => ['-f', f])]);
      assert.equal(r.status, 0, r.stdout + r.stderr);
    }
  });

  it('renders with --set global.cattle.clusterId=x and other keys under global it does not define', () => {
    for (const set of [
      'global.cattle.clusterId=x',
      'global.fleet.clusterLabels.site=line-7',
      'global.cattle.psp.enabled=false',
      'global.somethingNew=1',
    ]) {
      const r = renderRaw({ set: [set] });
      assert.equal(r.status, 0, `--set ${set}: ${r.stderr}`);
    }
    const lint = helm(['lint', '--strict', CHART, '--set', 'global.cattle.clusterId=x']);
    assert.equal(lint.status, 0, lint.stdout + lint.stderr);
  });

  it('still checks the global values it defines', () => {
    for (const set of [
      'global.logLevel=loud',
      'global.imageRegistry[0]=x',
      'global.edge.taint.effect=Sometimes',
      'global.systemDefaultRegistry[0]=x',
    ]) {
      assert.notEqual(renderRaw({ set: [set] }).status, 0, `--set ${set} was accepted`);
    }
  });

  it('pulls every image from the system default registry Rancher names', () => {
    const objs = render({ files: [valuesFile('single-node'), injected] });
    const all = images(objs);
    assert.ok(Object.keys(all).length >= 5, JSON.stringify(all));
    for (const [at, image] of Object.entries(all)) assert.match(image, /^registry\.plant\.local:5000\//, at);
    assert.equal(all[`${fullName('vision')}/vision`], 'registry.plant.local:5000/faceline/vision:0.1.0');
    assert.equal(all[`${fullName('postgresql')}/postgresql`], 'registry.plant.local:5000/library/postgres:17.6-bookworm');
  });

  it('reads global.cattle.systemDefaultRegistry alone too, and global.imageRegistry wins over both', () => {
    const cattleOnly = render({ set: ['global.cattle.systemDefaultRegistry=mirror.local'] });
    assert.equal(podSpec(find(cattleOnly, 'Deployment', fullName('web'))).containers[0].image, 'mirror.local/faceline/web:0.1.0');
    const explicit = render({ files: [injected], set: ['global.imageRegistry=registry.example.com'] });
    for (const [at, image] of Object.entries(images(explicit))) assert.match(image, /^registry\.example\.com\//, at);
    const none = render();
    assert.equal(podSpec(find(none, 'Deployment', fullName('auth'))).containers[0].image, 'ghcr.io/faceline/auth:0.1.0');
  });
});
