// Placement rules: which nodes each component may land on, what it tolerates, and that a
// site without uplink keeps its edge pods. Checked on the rendered pod specs.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { deployment, find, fullName, podSpec, render, renderSet, valuesFile, type K8sObject } from './chart.js';

interface Toleration {
  key?: string;
  operator?: string;
  value?: string;
  effect?: string;
  tolerationSeconds?: number;
}
interface Expression {
  key: string;
  operator: string;
  values?: string[];
}

const tolerations = (o: K8sObject): Toleration[] => podSpec(o).tolerations ?? [];
const required = (o: K8sObject): Expression[][] =>
  (podSpec(o).affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? []).map(
    (t: { matchExpressions: Expression[] }) => t.matchExpressions,
  );
const preferred = (o: K8sObject): { weight: number; preference: { matchExpressions: Expression[] } }[] =>
  podSpec(o).affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? [];

const UPLINK = ['node.kubernetes.io/unreachable', 'node.kubernetes.io/not-ready'];
const EDGE_KEY = 'node-role.kubernetes.io/edge';

/** Would the scheduler accept a node with these labels for this pod's required affinity? */
function admits(o: K8sObject, labels: Record<string, string>): boolean {
  const terms = required(o);
  if (terms.length === 0) return true;
  return terms.some((exprs) =>
    exprs.every((e) => {
      const has = Object.hasOwn(labels, e.key);
      const v = labels[e.key];
      switch (e.operator) {
        case 'In':
          return has && e.values!.includes(v!);
        case 'NotIn':
          return !has || !e.values!.includes(v!);
        case 'Exists':
          return has;
        case 'DoesNotExist':
          return !has;
        default:
          throw new Error(`operator ${e.operator} not modelled`);
      }
    }),
  );
}

/** Would this pod tolerate a node tainted with `taint`? */
function tolerates(o: K8sObject, taint: { key: string; value?: string; effect: string }): boolean {
  return tolerations(o).some(
    (t) =>
      (t.key === undefined || t.key === taint.key) &&
      (t.effect === undefined || t.effect === '' || t.effect === taint.effect) &&
      (t.operator === 'Exists' || t.value === (taint.value ?? '')),
  );
}

const edgeNode = {
  labels: { [EDGE_KEY]: 'true', 'kubernetes.io/hostname': 'line7-ipc' },
  taint: { key: EDGE_KEY, value: 'true', effect: 'NoSchedule' },
};
const cloudNode = { labels: { 'kubernetes.io/hostname': 'cloud-1', 'topology.kubernetes.io/zone': 'fsn1' } };

describe('helm chart: placement', () => {
  describe('hybrid (web and auth in the cloud, vision on the edge)', () => {
    const objs = renderSet('hybrid');

    it('vision can only be scheduled on edge nodes', () => {
      const vision = deployment(objs, 'vision');
      assert.deepEqual(required(vision), [[{ key: EDGE_KEY, operator: 'In', values: ['true'] }]]);
      assert.ok(admits(vision, edgeNode.labels));
      assert.ok(!admits(vision, cloudNode.labels), 'vision admitted on a cloud node');
      assert.ok(!admits(vision, { [EDGE_KEY]: 'false' }), 'vision admitted on a node labelled edge=false');
    });

    it('vision tolerates the edge taint and a lost uplink without a time limit', () => {
      const vision = deployment(objs, 'vision');
      assert.ok(tolerates(vision, edgeNode.taint));
      for (const key of UPLINK) {
        const t = tolerations(vision).find((x) => x.key === key);
        assert.ok(t, `no toleration for ${key}`);
        assert.equal(t.operator, 'Exists');
        assert.equal(t.effect, 'NoExecute');
        assert.equal(t.tolerationSeconds, undefined, `${key} has tolerationSeconds, pods would be evicted`);
      }
    });

    it('web and auth stay off edge nodes and tolerate neither the edge taint nor a lost uplink', () => {
      for (const c of ['web', 'auth']) {
        const d = deployment(objs, c);
        assert.ok(admits(d, cloudNode.labels), `${c} refused on a cloud node`);
        assert.ok(!admits(d, edgeNode.labels), `${c} admitted on an edge node`);
        assert.ok(!tolerates(d, edgeNode.taint), `${c} tolerates the edge taint`);
        assert.deepEqual(tolerations(d), [], `${c} has tolerations`);
      }
    });

    it('the helm test pod can run wherever auth runs', () => {
      const test = find(objs, 'Pod', fullName('test'));
      assert.deepEqual(tolerations(test), []);
    });
  });

  describe('cloud only', () => {
    const objs = renderSet('cloud-only');

    it('renders no edge or uplink toleration anywhere', () => {
      for (const o of objs.filter((x) => ['Deployment', 'StatefulSet', 'Pod'].includes(x.kind))) {
        for (const t of tolerations(o)) {
          assert.notEqual(t.key, EDGE_KEY, `${o.kind}/${o.metadata.name} tolerates the edge taint`);
          assert.ok(!UPLINK.includes(t.key ?? ''), `${o.kind}/${o.metadata.name} tolerates ${t.key}`);
        }
      }
    });

    it('every component requires a node without the edge label', () => {
      for (const c of ['web', 'auth', 'vision']) {
        const d = deployment(objs, c);
        assert.deepEqual(required(d), [[{ key: EDGE_KEY, operator: 'NotIn', values: ['true'] }]], c);
        assert.ok(admits(d, cloudNode.labels));
        assert.ok(!admits(d, edgeNode.labels));
      }
    });
  });

  describe('single node (placement any)', () => {
    const objs = renderSet('single-node');

    it('nothing is required of the node, so the one node takes everything', () => {
      for (const c of ['web', 'auth', 'vision']) assert.deepEqual(required(deployment(objs, c)), [], c);
      assert.deepEqual(required(find(objs, 'StatefulSet', fullName('postgresql'))), []);
    });

    it('vision prefers edge nodes; web and auth have no preference', () => {
      assert.deepEqual(preferred(deployment(objs, 'vision')), [
        { weight: 100, preference: { matchExpressions: [{ key: EDGE_KEY, operator: 'In', values: ['true'] }] } },
      ]);
      assert.deepEqual(preferred(deployment(objs, 'web')), []);
      assert.deepEqual(preferred(deployment(objs, 'auth')), []);
    });

    it('any tolerates the edge taint but keeps the default eviction after a lost uplink', () => {
      for (const c of ['web', 'auth', 'vision']) {
        const d = deployment(objs, c);
        assert.ok(tolerates(d, edgeNode.taint), c);
        assert.ok(!tolerations(d).some((t) => UPLINK.includes(t.key ?? '')), `${c} tolerates a lost uplink forever`);
      }
    });
  });

  describe('edge site (everything on the site label)', () => {
    const objs = renderSet('edge-site');

    it('every workload, the database included, is pinned to the site and survives a lost uplink', () => {
      const workloads = [...['web', 'auth', 'vision'].map((c) => deployment(objs, c)), find(objs, 'StatefulSet', fullName('postgresql'))];
      for (const w of workloads) {
        assert.deepEqual(required(w), [[{ key: 'faceline.io/site', operator: 'In', values: ['line-7'] }]], w.metadata.name);
        assert.ok(!admits(w, { 'faceline.io/site': 'line-8' }), `${w.metadata.name} admitted at another site`);
        for (const key of UPLINK)
          assert.ok(
            tolerations(w).some((t) => t.key === key && t.tolerationSeconds === undefined),
            `${w.metadata.name}: ${key}`,
          );
      }
    });
  });

  describe('configuration of the label, the taint and overrides', () => {
    it('an edge label without a value is matched with Exists / DoesNotExist', () => {
      const objs = render({
        set: [
          'global.edge.nodeLabel.key=openyurt.io/is-edge-worker',
          'global.edge.nodeLabel.value=',
          'vision.placement=edge',
          'web.placement=cloud',
        ],
      });
      assert.deepEqual(required(deployment(objs, 'vision')), [[{ key: 'openyurt.io/is-edge-worker', operator: 'Exists' }]]);
      assert.deepEqual(required(deployment(objs, 'web')), [[{ key: 'openyurt.io/is-edge-worker', operator: 'DoesNotExist' }]]);
    });

    it('a taint with a value is tolerated with Equal; no taint key means no taint toleration', () => {
      const withValue = render({
        set: [
          'global.edge.taint.key=site',
          'global.edge.taint.value=line-7',
          'global.edge.taint.effect=NoExecute',
          'vision.placement=edge',
        ],
      });
      assert.deepEqual(
        tolerations(deployment(withValue, 'vision')).find((t) => t.key === 'site'),
        { key: 'site', operator: 'Equal', value: 'line-7', effect: 'NoExecute' },
      );
      const untainted = render({ set: ['global.edge.taint.key=', 'vision.placement=edge'] });
      assert.deepEqual(
        tolerations(deployment(untainted, 'vision')).map((t) => t.key),
        UPLINK,
      );
    });

    it('tolerateUplinkLoss=false leaves the default eviction in place', () => {
      const objs = render({ files: [valuesFile('hybrid')], set: ['global.edge.tolerateUplinkLoss=false'] });
      assert.ok(!tolerations(deployment(objs, 'vision')).some((t) => UPLINK.includes(t.key ?? '')));
    });

    it('free-form affinity and tolerations replace the generated ones; nodeSelector is added', () => {
      const objs = render({
        files: [valuesFile('hybrid')],
        set: [
          'vision.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].key=gpu',
          'vision.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].operator=Exists',
          'vision.tolerations[0].key=gpu',
          'vision.tolerations[0].operator=Exists',
          'vision.nodeSelector.kubernetes\\.io/arch=arm64',
        ],
      });
      const vision = deployment(objs, 'vision');
      assert.deepEqual(required(vision), [[{ key: 'gpu', operator: 'Exists' }]]);
      assert.deepEqual(tolerations(vision), [{ key: 'gpu', operator: 'Exists' }]);
      assert.deepEqual(podSpec(vision).nodeSelector, { 'kubernetes.io/arch': 'arm64' });
    });
  });

  it('replicas spread over nodes and zones without blocking scheduling', () => {
    for (const c of ['web', 'auth', 'vision']) {
      const spread = podSpec(deployment(renderSet('hybrid'), c)).topologySpreadConstraints;
      assert.deepEqual(
        spread.map((s: { topologyKey: string; whenUnsatisfiable: string }) => [s.topologyKey, s.whenUnsatisfiable]),
        [
          ['kubernetes.io/hostname', 'ScheduleAnyway'],
          ['topology.kubernetes.io/zone', 'ScheduleAnyway'],
        ],
      );
      for (const s of spread) assert.equal(s.labelSelector.matchLabels['app.kubernetes.io/component'], c);
    }
  });
});
