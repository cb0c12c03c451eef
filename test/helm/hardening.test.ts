// Pod hardening, probes, resources, disruption budgets, autoscaling, settings and the
// checksum annotations, checked on the rendered objects of every value set.
import { describe, it } from 'node:test';
import { spawnSync } from 'node:child_process';
import assert from 'node:assert/strict';
import { VALUE_SETS, deployment, find, fullName, podSpec, render, renderSet, type K8sObject } from './chart.js';

const COMPONENTS = ['web', 'auth', 'vision'] as const;
const PORTS = { web: 8080, auth: 8081, vision: 8082 };

function workloads(objs: K8sObject[]): K8sObject[] {
  return objs.filter(
    (o) => ['Deployment', 'StatefulSet'].includes(o.kind) || (o.kind === 'Pod' && o.metadata.annotations?.['helm.sh/hook'] === 'test'),
  );
}

describe('helm chart: hardening', () => {
  for (const set of VALUE_SETS) {
    it(`${set}: every pod runs non-root, read-only, without capabilities or a service account token`, () => {
      const objs = renderSet(set);
      assert.ok(workloads(objs).length >= 4);
      for (const w of workloads(objs)) {
        const spec = podSpec(w);
        const at = `${w.kind}/${w.metadata.name}`;
        assert.equal(spec.automountServiceAccountToken, false, at);
        assert.equal(spec.securityContext.runAsNonRoot, true, at);
        assert.ok(spec.securityContext.runAsUser > 0, `${at} runs as root`);
        assert.equal(spec.securityContext.seccompProfile.type, 'RuntimeDefault', at);
        assert.equal(spec.hostNetwork ?? false, false, at);
        for (const c of spec.containers) {
          const sc = c.securityContext;
          assert.equal(sc.readOnlyRootFilesystem, true, `${at}/${c.name} root filesystem writable`);
          assert.equal(sc.allowPrivilegeEscalation, false, `${at}/${c.name}`);
          assert.equal(sc.privileged, false, `${at}/${c.name}`);
          assert.equal(sc.runAsNonRoot, true, `${at}/${c.name}`);
          assert.deepEqual(sc.capabilities.drop, ['ALL'], `${at}/${c.name}`);
          assert.equal(sc.capabilities.add, undefined, `${at}/${c.name}`);
          assert.equal(sc.seccompProfile.type, 'RuntimeDefault', `${at}/${c.name}`);
          assert.ok(c.resources?.requests?.cpu && c.resources?.requests?.memory, `${at}/${c.name} has no requests`);
          assert.ok(c.resources?.limits?.memory, `${at}/${c.name} has no memory limit`);
        }
      }
    });
  }

  it('the ServiceAccounts mount no API token', () => {
    const sas = renderSet('hybrid').filter((o) => o.kind === 'ServiceAccount');
    assert.deepEqual(sas.map((s) => s.metadata.name).sort(), COMPONENTS.map(fullName).sort());
    for (const sa of sas) assert.equal(sa.automountServiceAccountToken, false, sa.metadata.name);
    for (const c of COMPONENTS) assert.equal(podSpec(deployment(renderSet('hybrid'), c)).serviceAccountName, fullName(c));
  });

  it('writable /tmp is an emptyDir with a size limit, the only writable path of the services; secrets are read-only files', () => {
    for (const c of COMPONENTS) {
      const spec = podSpec(deployment(renderSet('single-node'), c));
      const mounts = spec.containers[0].volumeMounts as { name: string; mountPath: string; readOnly?: boolean }[];
      assert.deepEqual(mounts[0], { name: 'tmp', mountPath: '/tmp' }, c);
      for (const m of mounts.slice(1)) assert.equal(m.readOnly, true, `${c}: ${m.mountPath} is writable`);
      const tmp = spec.volumes.find((v: { name: string }) => v.name === 'tmp');
      assert.ok(tmp.emptyDir.sizeLimit, `${c} /tmp has no size limit`);
    }
    assert.equal(podSpec(deployment(renderSet('single-node'), 'web')).containers[0].volumeMounts.length, 1, 'web needs no secrets');
    assert.equal(podSpec(deployment(renderSet('single-node'), 'vision')).containers[0].volumeMounts.length, 1, 'vision needs no secrets');
    const pg = podSpec(find(renderSet('single-node'), 'StatefulSet', fullName('postgresql')));
    assert.deepEqual(pg.containers[0].volumeMounts.map((m: { mountPath: string }) => m.mountPath).sort(), [
      '/run/secrets/postgresql',
      '/tmp',
      '/var/lib/postgresql/data',
      '/var/run/postgresql',
    ]);
  });

  it('probes: startup and liveness on /healthz, readiness on /readyz, on the named http port', () => {
    for (const c of COMPONENTS) {
      const container = podSpec(deployment(renderSet('hybrid'), c)).containers[0];
      const metricsPort = c === 'web' ? [{ name: 'metrics', containerPort: 9464, protocol: 'TCP' }] : [];
      assert.deepEqual(container.ports, [{ name: 'http', containerPort: PORTS[c], protocol: 'TCP' }, ...metricsPort], c);
      assert.deepEqual(container.startupProbe.httpGet, { path: '/healthz', port: 'http' }, c);
      assert.deepEqual(container.livenessProbe.httpGet, { path: '/healthz', port: 'http' }, c);
      assert.deepEqual(container.readinessProbe.httpGet, { path: '/readyz', port: 'http' }, c);
    }
  });

  it('vision gets a longer startup window than web and auth, for model loading', () => {
    const window = (c: string): number => {
      const p = podSpec(deployment(renderSet('hybrid'), c)).containers[0].startupProbe;
      return p.periodSeconds * p.failureThreshold;
    };
    assert.ok(window('vision') >= 90, `vision startup window ${window('vision')} s`);
    assert.ok(window('vision') > window('auth') && window('vision') > window('web'));
  });

  it('the bundled PostgreSQL checks itself with pg_isready and runs as the postgres user', () => {
    const pg = podSpec(find(renderSet('single-node'), 'StatefulSet', fullName('postgresql')));
    assert.equal(pg.securityContext.runAsUser, 999);
    assert.equal(pg.containers[0].readinessProbe.exec.command[0], 'pg_isready');
    assert.match(pg.containers[0].image, /^docker\.io\/library\/postgres:\d+/);
  });

  it('settings reach each service through its ConfigMap; the vision threads fit its CPU limit', () => {
    const objs = renderSet('hybrid');
    const cm = (c: string): Record<string, string> => find(objs, 'ConfigMap', fullName(c)).data;
    assert.equal(cm('auth').VISION_URL, 'http://fl-faceline-vision-headless:8082');
    assert.equal(cm('auth').TRUST_PROXY, '10.42.0.0/16');
    assert.equal(cm('auth').PORT, '8081');
    assert.equal(cm('web').PORT, '8080');
    assert.equal(cm('web').AUTH_URL, undefined, 'web must not proxy behind the Ingress');
    assert.equal(cm('vision').VISION_WORKERS, '4');
    assert.equal(cm('vision').VISION_INTRA_OP_THREADS, '1');
    for (const c of COMPONENTS) {
      const container = podSpec(deployment(objs, c)).containers[0];
      assert.deepEqual(container.envFrom, [{ configMapRef: { name: fullName(c) } }], c);
    }
    const several = render({ set: ['auth.visionUrls[0]=http://vision-a:8082', 'auth.visionUrls[1]=http://vision-b:8082'] });
    assert.equal(find(several, 'ConfigMap', fullName('auth')).data.VISION_URL, 'http://vision-a:8082,http://vision-b:8082');
  });

  it('auth reaches vision through a headless Service, so DNS names every ready pod and auth balances per request', () => {
    for (const set of VALUE_SETS) {
      const objs = renderSet(set);
      const headless = find(objs, 'Service', `${fullName('vision')}-headless`);
      const plain = find(objs, 'Service', fullName('vision'));
      assert.equal(headless.spec.clusterIP, 'None', set);
      assert.equal(headless.spec.publishNotReadyAddresses, false, `${set}: pods that are not ready must not be named`);
      assert.deepEqual(headless.spec.selector, plain.spec.selector, set);
      assert.deepEqual(headless.spec.selector, deployment(objs, 'vision').spec.selector.matchLabels, set);
      assert.equal(plain.spec.type, 'ClusterIP', `${set}: the balanced Service stays for anything else`);
      assert.equal(plain.spec.clusterIP, undefined, set);
      // a headless Service does not translate ports: the URL must carry the container's own port
      const url = new URL(find(objs, 'ConfigMap', fullName('auth')).data.VISION_URL);
      assert.equal(url.hostname, headless.metadata.name, set);
      assert.equal(Number(url.port), podSpec(deployment(objs, 'vision')).containers[0].ports[0].containerPort, set);
      assert.equal(headless.spec.ports[0].port, Number(url.port), set);
    }
    const moved = render({ set: ['vision.containerPort=9000', 'vision.service.port=80'] });
    assert.equal(find(moved, 'ConfigMap', fullName('auth')).data.VISION_URL, 'http://fl-faceline-vision-headless:9000');
  });

  it('images default to the chart appVersion and honour registry, digest and pull secrets', () => {
    const objs = renderSet('hybrid');
    assert.equal(podSpec(deployment(objs, 'vision')).containers[0].image, 'ghcr.io/faceline/vision:0.1.0');
    const custom = render({
      set: [
        'global.imageRegistry=registry.plant.local:5000',
        `web.image.digest=sha256:${'a'.repeat(64)}`,
        'global.imagePullSecrets[0]=plant-pull',
      ],
    });
    assert.equal(podSpec(deployment(custom, 'web')).containers[0].image, `registry.plant.local:5000/faceline/web@sha256:${'a'.repeat(64)}`);
    assert.equal(podSpec(deployment(custom, 'auth')).containers[0].image, 'registry.plant.local:5000/faceline/auth:0.1.0');
    assert.deepEqual(podSpec(deployment(custom, 'auth')).imagePullSecrets, [{ name: 'plant-pull' }]);
  });

  it('auth learns the public address (PUBLIC_URL): given, derived from the Ingress host, or not set', () => {
    const publicUrl = (objs: K8sObject[]): string | undefined => find(objs, 'ConfigMap', fullName('auth')).data.PUBLIC_URL;
    assert.equal(publicUrl(renderSet('hybrid')), 'https://login.example.com');
    assert.equal(publicUrl(renderSet('single-node')), 'http://faceline.local', 'derived from ingress.hostname');
    assert.equal(publicUrl(renderSet('cloud-only')), 'https://faceline.example.org', 'derived from ingress.hostname with TLS');
    assert.equal(publicUrl(render({ set: ['publicUrl=https://login.plant.example/'] })), 'https://login.plant.example');
    assert.equal(publicUrl(render()), undefined, 'no host known: auth uses the request host');
    assert.equal(find(renderSet('hybrid'), 'ConfigMap', fullName('web')).data.PUBLIC_URL, undefined, 'only auth reads it');
  });

  it('each service reports the version of its image (FACELINE_VERSION follows image.tag, else appVersion)', () => {
    const version = (objs: K8sObject[], c: string): string => find(objs, 'ConfigMap', fullName(c)).data.FACELINE_VERSION;
    for (const c of COMPONENTS) assert.equal(version(renderSet('hybrid'), c), '0.1.0', c);
    const tagged = render({ set: ['web.image.tag=1.4.2', 'auth.image.tag=1.4.3', 'vision.image.tag=sha-0a1b2c3'] });
    assert.equal(version(tagged, 'web'), '1.4.2');
    assert.equal(version(tagged, 'auth'), '1.4.3');
    assert.equal(version(tagged, 'vision'), 'sha-0a1b2c3');
    assert.equal(podSpec(deployment(tagged, 'auth')).containers[0].image, 'ghcr.io/faceline/auth:1.4.3');
    // a numeric-looking tag stays a string
    assert.equal(version(render({ extraArgs: ['--set-string', 'web.image.tag=2'] }), 'web'), '2');
  });

  it('pods roll when their settings change (checksum annotations)', () => {
    const checksum = (objs: K8sObject[], c: string, which: string): string =>
      deployment(objs, c).spec.template.metadata.annotations[`checksum/${which}`];
    const base = render();
    const changed = render({ set: ['vision.workers=1'] });
    assert.notEqual(checksum(base, 'vision', 'config'), checksum(changed, 'vision', 'config'));
    assert.equal(checksum(base, 'auth', 'config'), checksum(changed, 'auth', 'config'));
    const rekeyed = render({ set: [`auth.masterKey=${Buffer.alloc(32, 7).toString('base64')}`] });
    assert.notEqual(checksum(base, 'auth', 'secret'), checksum(rekeyed, 'auth', 'secret'));
    assert.equal(checksum(base, 'auth', 'secret'), checksum(render(), 'auth', 'secret'), 'secret checksum must not change between renders');
  });

  it('Prometheus annotations point at /metrics on the service port (web: its own metrics port)', () => {
    for (const c of COMPONENTS) {
      const a = deployment(renderSet('single-node'), c).spec.template.metadata.annotations;
      assert.equal(a['prometheus.io/scrape'], 'true');
      assert.equal(a['prometheus.io/port'], String(c === 'web' ? 9464 : PORTS[c]));
      assert.equal(a['prometheus.io/path'], '/metrics');
    }
  });

  it('PodDisruptionBudgets select their component; HPAs scale auth and vision, whose Deployments then leave replicas alone', () => {
    const objs = renderSet('hybrid');
    for (const c of COMPONENTS) {
      const pdb = find(objs, 'PodDisruptionBudget', fullName(c));
      assert.equal(pdb.spec.maxUnavailable, 1);
      assert.deepEqual(pdb.spec.selector.matchLabels, deployment(objs, c).spec.selector.matchLabels);
    }
    for (const c of ['auth', 'vision']) {
      const hpa = find(objs, 'HorizontalPodAutoscaler', fullName(c));
      assert.deepEqual(hpa.spec.scaleTargetRef, { apiVersion: 'apps/v1', kind: 'Deployment', name: fullName(c) });
      assert.ok(hpa.spec.minReplicas >= 2 && hpa.spec.maxReplicas > hpa.spec.minReplicas);
      assert.equal(hpa.spec.metrics[0].resource.name, 'cpu');
      assert.equal(deployment(objs, c).spec.replicas, undefined, `${c} sets replicas while autoscaled`);
    }
    assert.equal(deployment(objs, 'web').spec.replicas, 2);
    assert.equal(renderSet('single-node').filter((o) => o.kind === 'HorizontalPodAutoscaler').length, 0);
  });

  it('a stopping pod keeps serving for the preStop delay (slept by node: no shell in the images to count on), then drains within the grace period', () => {
    for (const set of VALUE_SETS) {
      const objs = renderSet(set);
      for (const c of COMPONENTS) {
        const spec = podSpec(deployment(objs, c));
        const command: string[] = spec.containers[0].lifecycle.preStop.exec.command;
        assert.deepEqual(command.slice(0, 2), ['node', '-e'], `${set}/${c}: ${command.join(' ')}`);
        const ms = Number(command[2]!.match(/setTimeout\(\(\) => \{\}, (\d+)\)/)?.[1]);
        assert.equal(ms, 5000, `${set}/${c}`);
        // preStop, then SHUTDOWN_GRACE_SECONDS of draining, must end before the kubelet's SIGKILL
        const grace = Number(find(objs, 'ConfigMap', fullName(c)).data.SHUTDOWN_GRACE_SECONDS);
        assert.ok(
          ms / 1000 + grace < spec.terminationGracePeriodSeconds,
          `${set}/${c}: ${ms / 1000} + ${grace} >= ${spec.terminationGracePeriodSeconds}`,
        );
      }
    }
    // the rendered command is valid JavaScript that waits and exits cleanly
    const quick = podSpec(deployment(render({ set: ['web.preStopDelaySeconds=1'] }), 'web')).containers[0].lifecycle.preStop.exec
      .command as string[];
    const run = spawnSync(process.execPath, quick.slice(1), { encoding: 'utf8', timeout: 20_000 });
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stderr, '');
    const off = render({ set: ['vision.preStopDelaySeconds=0'] });
    assert.equal(podSpec(deployment(off, 'vision')).containers[0].lifecycle, undefined);
    assert.equal(find(off, 'ConfigMap', fullName('vision')).data.SHUTDOWN_GRACE_SECONDS, '25');
    assert.equal(
      find(render({ set: ['auth.preStopDelaySeconds=10', 'auth.terminationGracePeriodSeconds=60'] }), 'ConfigMap', fullName('auth')).data
        .SHUTDOWN_GRACE_SECONDS,
      '45',
    );
    assert.throws(
      () => render({ set: ['web.preStopDelaySeconds=25'] }),
      /web\.terminationGracePeriodSeconds \(30\) must be at least web\.preStopDelaySeconds \(25\) \+ 6/,
    );
  });

  it('rolling updates never drop below the wanted replica count', () => {
    for (const c of COMPONENTS)
      assert.deepEqual(deployment(renderSet('hybrid'), c).spec.strategy.rollingUpdate, { maxSurge: 1, maxUnavailable: 0 });
  });
});
