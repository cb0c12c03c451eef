// Traffic: the NetworkPolicies are evaluated the way Kubernetes evaluates them, for the
// pairs of pods that must and must not talk; the Ingress routes, TLS, sticky sessions and
// the LoadBalancer option are checked on the rendered objects.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildApp as buildWeb, loadConfig as loadWebConfig } from '@faceline/web';
import { NAMESPACE, deployment, find, fullName, podSpec, render, renderRaw, renderSet, valuesFile, type K8sObject } from './chart.js';

interface Pod {
  name: string;
  namespace: string;
  labels: Record<string, string>;
  ports: Record<string, number>;
}
interface Endpoint {
  pod?: Pod;
  ip?: string;
}

const NS_LABELS: Record<string, Record<string, string>> = {};
const nsLabels = (ns: string): Record<string, string> => NS_LABELS[ns] ?? { 'kubernetes.io/metadata.name': ns };

function matches(
  selector: { matchLabels?: Record<string, string>; matchExpressions?: unknown[] } | undefined,
  labels: Record<string, string>,
): boolean {
  if (!selector) return true;
  if (selector.matchExpressions?.length) throw new Error('matchExpressions not modelled');
  return Object.entries(selector.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
}

function ipIn(ip: string, cidr: string): boolean {
  const [base, bitsText] = cidr.split('/') as [string, string];
  const bits = Number(bitsText);
  if (bits === 0) return true;
  const n = (a: string): number => a.split('.').reduce((acc, x) => acc * 256 + Number(x), 0);
  return Math.floor(n(ip) / 2 ** (32 - bits)) === Math.floor(n(base) / 2 ** (32 - bits));
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function peerMatches(peer: any, policyNs: string, other: Endpoint): boolean {
  if (peer.ipBlock)
    return (
      other.ip !== undefined && ipIn(other.ip, peer.ipBlock.cidr) && !(peer.ipBlock.except ?? []).some((c: string) => ipIn(other.ip!, c))
    );
  if (!other.pod) return false;
  const nsOk = peer.namespaceSelector ? matches(peer.namespaceSelector, nsLabels(other.pod.namespace)) : other.pod.namespace === policyNs;
  const podOk = peer.podSelector ? matches(peer.podSelector, other.pod.labels) : true;
  return nsOk && podOk;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function portMatches(ports: any[] | undefined, target: Pod | undefined, port: number, protocol: string): boolean {
  if (!ports || ports.length === 0) return true;
  return ports.some(
    (p) =>
      (p.protocol ?? 'TCP') === protocol &&
      (p.port === undefined || p.port === port || (typeof p.port === 'string' && target?.ports[p.port] === port)),
  );
}

/** Kubernetes semantics: a pod selected by a policy of a direction allows only what one of those policies' rules allows. */
function check(policies: K8sObject[], from: Endpoint, to: Endpoint, port: number, protocol: string, sides: 'both' | 'ingress'): boolean {
  const direction = (self: Endpoint, other: Endpoint, type: 'Ingress' | 'Egress'): boolean => {
    if (!self.pod) return true;
    const selecting = policies.filter(
      (p) =>
        (p.metadata.namespace ?? NAMESPACE) === self.pod!.namespace &&
        matches(p.spec.podSelector, self.pod!.labels) &&
        p.spec.policyTypes.includes(type),
    );
    if (selecting.length === 0) return true;
    const key = type === 'Ingress' ? 'from' : 'to';
    const target = type === 'Ingress' ? self.pod : other.pod;
    return selecting.some((p) =>
      (p.spec[type.toLowerCase()] ?? []).some(
        // eslint-disable-next-line @typescript-eslint/no-explicit-any
        (rule: any) =>
          (rule[key] === undefined || rule[key].some((peer: unknown) => peerMatches(peer, self.pod!.namespace, other))) &&
          portMatches(rule.ports, target, port, protocol),
      ),
    );
  };
  return (sides === 'ingress' || direction(from, to, 'Egress')) && direction(to, from, 'Ingress');
}

/** Both the sender's egress and the receiver's ingress allow it. */
const allowed = (policies: K8sObject[], from: Endpoint, to: Endpoint, port: number, protocol = 'TCP'): boolean =>
  check(policies, from, to, port, protocol, 'both');
/** The receiver's ingress rules alone allow it (each side must hold on its own). */
const admitted = (policies: K8sObject[], from: Endpoint, to: Endpoint, port: number): boolean =>
  check(policies, from, to, port, 'TCP', 'ingress');

function podsOf(objs: K8sObject[]): Record<string, Pod> {
  const pods: Record<string, Pod> = {};
  for (const w of objs.filter(
    (o) => ['Deployment', 'StatefulSet'].includes(o.kind) || (o.kind === 'Pod' && o.metadata.name === fullName('test')),
  )) {
    const spec = w.kind === 'Pod' ? w.spec : w.spec.template.spec;
    const labels = w.kind === 'Pod' ? w.metadata.labels : w.spec.template.metadata.labels;
    const ports: Record<string, number> = {};
    for (const c of spec.containers) for (const p of c.ports ?? []) ports[p.name] = p.containerPort;
    pods[labels['app.kubernetes.io/component']] = { name: w.metadata.name, namespace: NAMESPACE, labels, ports };
  }
  return pods;
}

const outsider = (namespace: string, labels: Record<string, string>, ports: Record<string, number> = {}): Endpoint => ({
  pod: { name: 'x', namespace, labels, ports },
});
const traefik = outsider('kube-system', { 'app.kubernetes.io/name': 'traefik' });
const coredns = outsider('kube-system', { 'k8s-app': 'kube-dns' }, { dns: 53 });
const prometheus = outsider('cattle-monitoring-system', { 'app.kubernetes.io/name': 'prometheus' });
const neighbour = outsider(NAMESPACE, { app: 'some-other-app' });
const foreign = outsider('default', { app: 'curl' });
const internet: Endpoint = { ip: '203.0.113.9' };

describe('helm chart: NetworkPolicies', () => {
  for (const set of ['single-node', 'hybrid', 'cloud-only'] as const) {
    describe(set, () => {
      const objs = renderSet(set);
      const policies = objs.filter((o) => o.kind === 'NetworkPolicy');
      const pods = podsOf(objs);
      const p = (c: string): Endpoint => {
        assert.ok(pods[c], `no ${c} pod`);
        return { pod: pods[c] };
      };

      it('every Faceline pod is selected for ingress and egress', () => {
        for (const [c, pod] of Object.entries(pods)) {
          const types = policies.filter((np) => matches(np.spec.podSelector, pod.labels)).flatMap((np) => np.spec.policyTypes);
          assert.ok(types.includes('Ingress') && types.includes('Egress'), `${c} is not isolated`);
        }
      });

      it('only the ingress controller (and the test pod) reach web; the ingress controller and web reach auth', () => {
        assert.ok(allowed(policies, traefik, p('web'), 8080));
        assert.ok(allowed(policies, traefik, p('auth'), 8081));
        assert.ok(allowed(policies, p('web'), p('auth'), 8081));
        assert.ok(allowed(policies, p('test'), p('web'), 8080));
        assert.ok(allowed(policies, p('test'), p('auth'), 8081));
        for (const from of [neighbour, foreign, internet, p('vision')]) {
          assert.ok(!allowed(policies, from, p('web'), 8080), `${JSON.stringify(from).slice(0, 80)} reaches web`);
          assert.ok(!allowed(policies, from, p('auth'), 8081), `${JSON.stringify(from).slice(0, 80)} reaches auth`);
          assert.ok(!admitted(policies, from, p('auth'), 8081), `auth's ingress admits ${JSON.stringify(from).slice(0, 80)}`);
        }
        assert.ok(!allowed(policies, traefik, p('auth'), 9229), 'another port of auth is open');
      });

      it('only auth reaches vision', () => {
        assert.ok(allowed(policies, p('auth'), p('vision'), 8082));
        for (const from of [traefik, p('web'), p('test'), neighbour, foreign, internet]) {
          assert.ok(!allowed(policies, from, p('vision'), 8082), `${JSON.stringify(from).slice(0, 80)} reaches vision`);
          assert.ok(!admitted(policies, from, p('vision'), 8082), `vision's ingress admits ${JSON.stringify(from).slice(0, 80)}`);
        }
      });

      it('vision and web reach nothing but DNS (and web only auth)', () => {
        assert.ok(allowed(policies, p('vision'), coredns, 53, 'UDP'));
        assert.ok(allowed(policies, p('web'), coredns, 53, 'UDP'));
        assert.ok(allowed(policies, p('auth'), coredns, 53, 'TCP'));
        assert.ok(!allowed(policies, p('vision'), internet, 443));
        assert.ok(!allowed(policies, p('vision'), p('auth'), 8081));
        assert.ok(!allowed(policies, p('web'), p('vision'), 8082));
        assert.ok(!allowed(policies, p('web'), internet, 443));
        assert.ok(!allowed(policies, p('auth'), internet, 443));
      });

      it('the metrics namespace may scrape the services (web on its metrics port, which nobody else reaches)', () => {
        for (const [c, port] of [
          ['web', 9464],
          ['auth', 8081],
          ['vision', 8082],
        ] as const) {
          assert.ok(allowed(policies, prometheus, p(c), port), `prometheus cannot scrape ${c}`);
        }
        for (const from of [traefik, p('test'), neighbour, foreign, internet]) {
          assert.ok(!allowed(policies, from, p('web'), 9464), `${JSON.stringify(from).slice(0, 80)} reaches web's metrics port`);
        }
      });

      if (set === 'single-node') {
        it('only auth reaches the bundled database', () => {
          assert.ok(allowed(policies, p('auth'), p('postgresql'), 5432));
          for (const from of [p('web'), p('vision'), p('test'), traefik, prometheus, neighbour, foreign]) {
            assert.ok(!allowed(policies, from, p('postgresql'), 5432), `${JSON.stringify(from).slice(0, 80)} reaches the database`);
            assert.ok(
              !admitted(policies, from, p('postgresql'), 5432),
              `the database's ingress admits ${JSON.stringify(from).slice(0, 80)}`,
            );
          }
        });
      }
    });
  }

  it('hybrid: auth reaches the CloudNativePG pods and no other address on the database port', () => {
    const policies = renderSet('hybrid').filter((o) => o.kind === 'NetworkPolicy');
    const auth = { pod: podsOf(renderSet('hybrid')).auth };
    assert.ok(allowed(policies, auth, outsider(NAMESPACE, { 'cnpg.io/cluster': 'faceline-db' }), 5432));
    assert.ok(!allowed(policies, auth, internet, 5432));
  });

  it('cloud-only: auth reaches an external database on port 5432 only', () => {
    const policies = renderSet('cloud-only').filter((o) => o.kind === 'NetworkPolicy');
    const auth = { pod: podsOf(renderSet('cloud-only')).auth };
    assert.ok(allowed(policies, auth, internet, 5432));
    assert.ok(!allowed(policies, auth, internet, 6379));
  });

  it('edge-site (LoadBalancer): anyone reaches web, still nobody but web and the ingress reach auth', () => {
    const objs = renderSet('edge-site');
    const policies = objs.filter((o) => o.kind === 'NetworkPolicy');
    const pods = podsOf(objs);
    for (const from of [internet, foreign]) assert.ok(allowed(policies, from, { pod: pods.web }, 8080));
    for (const from of [internet, foreign])
      assert.ok(!allowed(policies, from, { pod: pods.web }, 9464), 'web metrics reachable through the LoadBalancer rule');
    assert.ok(allowed(policies, prometheus, { pod: pods.web }, 9464));
    assert.ok(allowed(policies, { pod: pods.web }, { pod: pods.auth }, 8081));
    assert.ok(!allowed(policies, internet, { pod: pods.auth }, 8081));
    assert.ok(!allowed(policies, internet, { pod: pods.vision }, 8082));
  });

  it('DNS egress: NodeLocal DNSCache on the host network is reachable only when its address is listed in networkPolicy.dns.ipBlocks', () => {
    const nodeLocal: Endpoint = { ip: '169.254.20.10' };
    const components = ['web', 'auth', 'vision', 'postgresql', 'test'];
    const plain = render({ files: [valuesFile('single-node')] });
    const plainPolicies = plain.filter((o) => o.kind === 'NetworkPolicy');
    for (const c of components)
      assert.ok(!allowed(plainPolicies, { pod: podsOf(plain)[c] }, nodeLocal, 53, 'UDP'), `${c} reaches 169.254.20.10 without ipBlocks`);

    const objs = render({
      files: [valuesFile('single-node')],
      set: ['networkPolicy.dns.ipBlocks[0]=169.254.20.10/32', 'networkPolicy.dns.ipBlocks[1]=10.43.0.10/32'],
    });
    const policies = objs.filter((o) => o.kind === 'NetworkPolicy');
    const pods = podsOf(objs);
    for (const c of components) {
      const from: Endpoint = { pod: pods[c] };
      assert.ok(allowed(policies, from, nodeLocal, 53, 'UDP'), `${c} cannot query NodeLocal DNSCache over UDP`);
      assert.ok(allowed(policies, from, nodeLocal, 53, 'TCP'), `${c} cannot query NodeLocal DNSCache over TCP`);
      assert.ok(allowed(policies, from, { ip: '10.43.0.10' }, 53, 'UDP'), `${c} cannot query the kube-dns Service address`);
      assert.ok(allowed(policies, from, coredns, 53, 'UDP'), `${c} lost CoreDNS`);
      assert.ok(!allowed(policies, from, nodeLocal, 443), `${c} reaches 169.254.20.10 on another port`);
      assert.ok(!allowed(policies, from, { ip: '169.254.20.11' }, 53, 'UDP'), `${c} reaches a neighbouring address`);
    }
    assert.ok(!allowed(policies, { pod: pods.vision }, internet, 443), 'vision reaches the internet');
    assert.notEqual(
      renderRaw({ set: ['networkPolicy.dns.ipBlocks[0]=169.254.20.10'] }).status,
      0,
      'an address without a prefix length was accepted',
    );
  });

  it('site.yaml: the replication link to the hub (and nothing else) passes the database and auth policies', () => {
    const objs = renderSet('site');
    const policies = objs.filter((o) => o.kind === 'NetworkPolicy');
    const pods = podsOf(objs);
    const hubDb: Endpoint = { ip: '10.100.0.5' };
    // the hub's subscription to this site, and this site's subscription and authority writes to the hub
    assert.ok(allowed(policies, hubDb, { pod: pods.postgresql }, 5432), "the hub's PostgreSQL cannot subscribe to the site");
    assert.ok(allowed(policies, { pod: pods.postgresql }, hubDb, 5432), "the site's PostgreSQL cannot subscribe to the hub");
    assert.ok(allowed(policies, { pod: pods.auth }, hubDb, 5432), "the site's auth cannot write at the hub");
    assert.ok(allowed(policies, { pod: pods.auth }, { pod: pods.postgresql }, 5432));
    // nothing else: not another address, not another port, not the other services
    assert.ok(!allowed(policies, internet, { pod: pods.postgresql }, 5432), 'anyone reaches the site database');
    assert.ok(!allowed(policies, { pod: pods.postgresql }, internet, 5432));
    assert.ok(!allowed(policies, { pod: pods.postgresql }, hubDb, 22));
    assert.ok(!allowed(policies, hubDb, { pod: pods.auth }, 8081));
    assert.ok(!allowed(policies, { pod: pods.vision }, hubDb, 5432));
    assert.ok(!allowed(policies, { pod: pods.web }, { pod: pods.postgresql }, 5432));
  });

  it("hub.yaml: auth reaches the CloudNativePG pods and the sites' databases on the PostgreSQL port only", () => {
    const objs = renderSet('hub');
    const policies = objs.filter((o) => o.kind === 'NetworkPolicy');
    const auth = { pod: podsOf(objs).auth };
    assert.ok(allowed(policies, auth, outsider(NAMESPACE, { 'cnpg.io/cluster': 'faceline-hub-db' }), 5432));
    assert.ok(allowed(policies, auth, { ip: '10.107.7.5' }, 5432), 'the hub cannot check whether a site has published');
    assert.ok(!allowed(policies, auth, { ip: '10.107.7.5' }, 8081));
    assert.ok(!allowed(policies, auth, internet, 5432));
  });

  it('a replication link without peers is open on the PostgreSQL port only', () => {
    const objs = render({ files: [valuesFile('site')], set: ['networkPolicy.replication.peers=null'] });
    const policies = objs.filter((o) => o.kind === 'NetworkPolicy');
    const pods = podsOf(objs);
    assert.ok(allowed(policies, { pod: pods.postgresql }, internet, 5432));
    assert.ok(!allowed(policies, { pod: pods.postgresql }, internet, 443));
  });

  it('networkPolicy.enabled=false renders none', () => {
    assert.equal(render({ set: ['networkPolicy.enabled=false'] }).filter((o) => o.kind === 'NetworkPolicy').length, 0);
  });
});

describe('helm chart: Ingress and load balancer', () => {
  const routes = (ing: K8sObject): Record<string, string[]> => {
    const out: Record<string, string[]> = {};
    for (const rule of ing.spec.rules) {
      out[rule.host ?? '*'] = rule.http.paths.map(
        (p: { path: string; pathType: string; backend: { service: { name: string; port: { name: string } } } }) =>
          `${p.pathType} ${p.path} -> ${p.backend.service.name}:${p.backend.service.port.name}`,
      );
    }
    return out;
  };
  const expected = [
    'Prefix /api -> fl-faceline-auth:http',
    'Prefix /socket.io -> fl-faceline-auth:http',
    'Prefix /.well-known -> fl-faceline-auth:http',
    'Prefix /oidc -> fl-faceline-auth:http',
    'Prefix / -> fl-faceline-web:http',
  ];

  it('routes /api, /socket.io, /.well-known and /oidc to auth and the rest to web, with Traefik by default', () => {
    const ing = find(renderSet('single-node'), 'Ingress', 'fl-faceline');
    assert.equal(ing.spec.ingressClassName, 'traefik');
    assert.deepEqual(routes(ing), { 'faceline.local': expected });
    assert.equal(ing.spec.tls, undefined);
    const anyHost = find(render(), 'Ingress', 'fl-faceline');
    assert.deepEqual(routes(anyHost), { '*': expected });
  });

  it('the Services the Ingress names exist and expose the named port', () => {
    const objs = renderSet('hybrid');
    for (const name of ['fl-faceline-auth', 'fl-faceline-web']) {
      const svc = find(objs, 'Service', name);
      assert.deepEqual(svc.spec.ports[0].name, 'http');
      assert.deepEqual(svc.spec.ports[0].targetPort, 'http');
    }
  });

  it('TLS with a cert-manager ClusterIssuer, an Issuer, or an existing Secret; extra host names get the same routes', () => {
    const hybrid = find(renderSet('hybrid'), 'Ingress', 'fl-faceline');
    assert.equal(hybrid.metadata.annotations['cert-manager.io/cluster-issuer'], 'letsencrypt-prod');
    assert.deepEqual(hybrid.spec.tls, [{ hosts: ['login.example.com'], secretName: 'fl-faceline-tls' }]);
    const cloud = find(renderSet('cloud-only'), 'Ingress', 'fl-faceline');
    assert.deepEqual(cloud.spec.tls, [{ hosts: ['faceline.example.org'], secretName: 'faceline-example-org-tls' }]);
    assert.equal(cloud.metadata.annotations?.['cert-manager.io/cluster-issuer'], undefined);
    const issuer = find(
      render({
        set: [
          'ingress.hostname=a.example',
          'ingress.extraHostnames[0]=b.example',
          'ingress.tls.enabled=true',
          'ingress.tls.issuer=ca',
          'ingress.className=haproxy',
        ],
      }),
      'Ingress',
      'fl-faceline',
    );
    assert.equal(issuer.metadata.annotations['cert-manager.io/issuer'], 'ca');
    assert.equal(
      issuer.metadata.annotations['traefik.ingress.kubernetes.io/router.tls'],
      undefined,
      'Traefik annotation on another controller',
    );
    assert.equal(issuer.spec.ingressClassName, 'haproxy');
    assert.deepEqual(routes(issuer), { 'a.example': expected, 'b.example': expected });
    assert.deepEqual(issuer.spec.tls[0].hosts, ['a.example', 'b.example']);
  });

  it('Socket.IO sticky sessions: Traefik cookie annotations on the auth Service, Secure under TLS', () => {
    const a = find(renderSet('hybrid'), 'Service', 'fl-faceline-auth').metadata.annotations;
    assert.equal(a['traefik.ingress.kubernetes.io/service.sticky.cookie'], 'true');
    assert.equal(a['traefik.ingress.kubernetes.io/service.sticky.cookie.name'], 'faceline_auth');
    assert.equal(a['traefik.ingress.kubernetes.io/service.sticky.cookie.secure'], 'true');
    assert.equal(a['traefik.ingress.kubernetes.io/service.sticky.cookie.httponly'], 'true');
    const plain = find(renderSet('single-node'), 'Service', 'fl-faceline-auth').metadata.annotations;
    assert.equal(plain['traefik.ingress.kubernetes.io/service.sticky.cookie.secure'], 'false');
    const off = find(render({ set: ['ingress.stickySessions.enabled=false'] }), 'Service', 'fl-faceline-auth');
    assert.equal(off.metadata.annotations, undefined);
    assert.equal(find(renderSet('hybrid'), 'Service', 'fl-faceline-web').metadata.annotations, undefined);
  });

  it('LoadBalancer option: a ServiceLB-compatible Service to web, which then forwards to auth with client-IP affinity', () => {
    const objs = renderSet('edge-site');
    assert.equal(objs.filter((o) => o.kind === 'Ingress').length, 0);
    const lb = find(objs, 'Service', 'fl-faceline-lb');
    assert.equal(lb.spec.type, 'LoadBalancer');
    assert.deepEqual(lb.spec.ports, [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }]);
    assert.deepEqual(lb.spec.selector, deployment(objs, 'web').spec.selector.matchLabels);
    assert.equal(lb.spec.sessionAffinity, 'ClientIP');
    assert.equal(lb.spec.externalTrafficPolicy, 'Local');
    assert.equal(find(objs, 'ConfigMap', fullName('web')).data.AUTH_URL, 'http://fl-faceline-auth:8081');
    assert.equal(find(objs, 'Service', fullName('auth')).spec.sessionAffinity, 'ClientIP');
    assert.equal(renderSet('hybrid').filter((o) => o.kind === 'Service' && o.spec.type === 'LoadBalancer').length, 0);
  });

  /**
   * How Traefik as k3s ships it answers a request, from the rendered Ingresses and Middlewares:
   * routers live on the entry points the Ingress names (all by default); on `web` (plain HTTP) a
   * router of a TLS Ingress does not match; the longest matching path wins; a redirectScheme
   * Middleware answers before the backend. No matching router: 404.
   */
  function traefik(objs: K8sObject[], url: string): { status: number; location?: string; backend?: string } {
    const u = new URL(url);
    const entryPoint = u.protocol === 'https:' ? 'websecure' : 'web';
    let best: { ing: K8sObject; path: string; backend: string } | undefined;
    for (const ing of objs.filter((o) => o.kind === 'Ingress' && o.spec.ingressClassName === 'traefik')) {
      const a: Record<string, string> = ing.metadata.annotations ?? {};
      const entryPoints = a['traefik.ingress.kubernetes.io/router.entrypoints']?.split(',') ?? ['web', 'websecure'];
      if (!entryPoints.includes(entryPoint)) continue;
      const tls = a['traefik.ingress.kubernetes.io/router.tls'] === 'true' || (ing.spec.tls ?? []).length > 0;
      if (tls && entryPoint === 'web') continue;
      for (const rule of ing.spec.rules) {
        if (rule.host && rule.host !== u.hostname) continue;
        for (const p of rule.http.paths as { path: string; backend: { service: { name: string } } }[]) {
          const hit = u.pathname === p.path || u.pathname.startsWith(p.path.endsWith('/') ? p.path : `${p.path}/`);
          if (hit && (!best || p.path.length > best.path.length)) best = { ing, path: p.path, backend: p.backend.service.name };
        }
      }
    }
    if (!best) return { status: 404 };
    for (const ref of (best.ing.metadata.annotations?.['traefik.ingress.kubernetes.io/router.middlewares'] ?? '')
      .split(',')
      .filter(Boolean)) {
      const m = ref.match(/^(.+)-(.+?)@kubernetescrd$/);
      const mw = objs.find((o) => o.kind === 'Middleware' && m && `${NAMESPACE}-${o.metadata.name}` === `${m[1]}-${m[2]}`);
      assert.ok(mw, `Middleware ${ref} is not rendered`);
      assert.equal(mw.apiVersion, 'traefik.io/v1alpha1');
      if (mw.spec.redirectScheme)
        return {
          status: mw.spec.redirectScheme.permanent ? 301 : 302,
          location: `${mw.spec.redirectScheme.scheme}://${u.host}${u.pathname}`,
        };
    }
    return { status: 200, backend: best.backend };
  }

  it('http:// is redirected to https:// with TLS on Traefik (instead of 404), and https:// still reaches the services', () => {
    const objs = renderSet('hybrid');
    assert.deepEqual(traefik(objs, 'http://login.example.com/kiosk'), { status: 301, location: 'https://login.example.com/kiosk' });
    assert.deepEqual(traefik(objs, 'http://login.example.com/api/v1/info'), {
      status: 301,
      location: 'https://login.example.com/api/v1/info',
    });
    assert.deepEqual(traefik(objs, 'https://login.example.com/kiosk'), { status: 200, backend: 'fl-faceline-web' });
    assert.deepEqual(traefik(objs, 'https://login.example.com/socket.io/'), { status: 200, backend: 'fl-faceline-auth' });
    assert.deepEqual(traefik(objs, 'http://elsewhere.example.com/'), { status: 404 });
    const mw = objs.filter((o) => o.kind === 'Middleware');
    assert.equal(mw.length, 1);
    assert.deepEqual(mw[0]!.spec, { redirectScheme: { scheme: 'https', permanent: true } });
    const http = find(objs, 'Ingress', 'fl-faceline-http');
    assert.equal(http.spec.tls, undefined);
    assert.deepEqual(
      http.spec.rules.map((r: { host: string }) => r.host),
      find(objs, 'Ingress', 'fl-faceline').spec.rules.map((r: { host: string }) => r.host),
    );
    // extra host names are redirected too
    const extra = render({ files: [valuesFile('hybrid')], set: ['ingress.extraHostnames[0]=login2.example.com'] });
    assert.deepEqual(traefik(extra, 'http://login2.example.com/'), { status: 301, location: 'https://login2.example.com/' });
  });

  it("web's /metrics is not public: the Ingress `/` rule and the LoadBalancer end at web's http port, which does not serve it", async () => {
    const publicDir = mkdtempSync(path.join(tmpdir(), 'faceline-metrics-'));
    writeFileSync(path.join(publicDir, 'index.html'), '<!doctype html><title>t</title>');
    try {
      for (const set of ['hybrid', 'edge-site'] as const) {
        const objs = renderSet(set);
        const container = podSpec(deployment(objs, 'web')).containers[0];
        const portOf = (name: string): number => container.ports.find((p: { name: string }) => p.name === name).containerPort;
        // every public way in ends at the port named http
        for (const ing of objs.filter((o) => o.kind === 'Ingress')) {
          for (const rule of ing.spec.rules)
            for (const p of rule.http.paths)
              if (p.backend.service.name === fullName('web')) assert.equal(p.backend.service.port.name, 'http', set);
        }
        for (const svc of objs.filter((o) => o.kind === 'Service' && o.spec.type === 'LoadBalancer'))
          assert.deepEqual(
            svc.spec.ports.map((p: { targetPort: string }) => p.targetPort),
            ['http'],
            set,
          );
        if (set === 'hybrid')
          assert.deepEqual(traefik(objs, 'https://login.example.com/metrics'), { status: 200, backend: fullName('web') });
        const cm = find(objs, 'ConfigMap', fullName('web')).data;
        assert.equal(Number(cm.METRICS_PORT), portOf('metrics'), set);
        assert.notEqual(portOf('metrics'), portOf('http'), set);
        // web built with exactly these settings: nothing on the public port, metrics on the other
        const { app, metricsApp } = await buildWeb({ config: loadWebConfig({ ...cm, WEB_PUBLIC_DIR: publicDir, LOG_LEVEL: 'silent' }) });
        try {
          assert.ok(metricsApp, `${set}: web serves /metrics on its public port`);
          const open = await app.inject({ url: '/metrics' });
          assert.equal(open.statusCode, 404, set);
          assert.doesNotMatch(open.body, /process_cpu/, set);
          const scraped = await metricsApp.inject({ url: '/metrics' });
          assert.equal(scraped.statusCode, 200, set);
          assert.match(scraped.body, /faceline_web_http_requests_total/, set);
        } finally {
          await app.close();
          await metricsApp?.close();
        }
      }
    } finally {
      rmSync(publicDir, { recursive: true, force: true });
    }
  });

  it('plain HTTP without TLS is served as before; the redirect can be turned off and is only rendered for Traefik', () => {
    assert.deepEqual(traefik(renderSet('single-node'), 'http://faceline.local/kiosk'), { status: 200, backend: 'fl-faceline-web' });
    assert.equal(renderSet('single-node').filter((o) => o.kind === 'Middleware').length, 0);
    const off = render({ files: [valuesFile('hybrid')], set: ['ingress.tls.redirectHttp=false'] });
    assert.equal(off.filter((o) => o.kind === 'Middleware' || o.metadata.name === 'fl-faceline-http').length, 0);
    const haproxy = render({ files: [valuesFile('hybrid')], set: ['ingress.className=haproxy'] });
    assert.equal(haproxy.filter((o) => o.kind === 'Middleware' || o.metadata.name === 'fl-faceline-http').length, 0);
  });

  it('Gateway API: an optional HTTPRoute on the HTTP listener answers every request with a redirect to https://', () => {
    const gateway = [
      'ingress.enabled=false',
      'gatewayApi.enabled=true',
      'gatewayApi.parentRefs[0].name=public',
      'gatewayApi.parentRefs[0].sectionName=https',
      'gatewayApi.hostnames[0]=login.example.com',
    ];
    const objs = render({
      set: [
        ...gateway,
        'gatewayApi.httpsRedirect.enabled=true',
        'gatewayApi.httpsRedirect.parentRefs[0].name=public',
        'gatewayApi.httpsRedirect.parentRefs[0].sectionName=http',
      ],
    });
    const redirect = find(objs, 'HTTPRoute', 'fl-faceline-https-redirect');
    assert.deepEqual(redirect.spec.parentRefs, [{ name: 'public', sectionName: 'http' }]);
    assert.deepEqual(redirect.spec.hostnames, ['login.example.com']);
    assert.deepEqual(redirect.spec.rules, [
      { filters: [{ type: 'RequestRedirect', requestRedirect: { scheme: 'https', statusCode: 301 } }] },
    ]);
    assert.deepEqual(find(objs, 'HTTPRoute', 'fl-faceline').spec.parentRefs, [{ name: 'public', sectionName: 'https' }]);
    assert.equal(render({ set: gateway }).filter((o) => o.kind === 'HTTPRoute').length, 1, 'off by default');
    assert.throws(
      () => render({ set: [...gateway, 'gatewayApi.httpsRedirect.enabled=true'] }),
      /gatewayApi.httpsRedirect.enabled needs gatewayApi.httpsRedirect.parentRefs/,
    );
    assert.throws(
      () =>
        render({
          set: [
            ...gateway,
            'gatewayApi.parentRefs[0].sectionName=',
            'gatewayApi.httpsRedirect.enabled=true',
            'gatewayApi.httpsRedirect.parentRefs[0].name=public',
          ],
        }),
      /needs a sectionName on every parentRef/,
    );
  });

  it('the chart refuses to render without an entry point, and a Gateway API route without a Gateway', () => {
    assert.throws(() => render({ set: ['ingress.enabled=false'] }), /enable ingress.enabled, gatewayApi.enabled or loadBalancer.enabled/);
    assert.throws(() => render({ set: ['gatewayApi.enabled=true'] }), /gatewayApi.enabled needs gatewayApi.parentRefs/);
  });

  it('Gateway API: an HTTPRoute with the Ingress routes, optional cookie session persistence for auth', () => {
    const objs = render({
      set: [
        'ingress.enabled=false',
        'gatewayApi.enabled=true',
        'gatewayApi.parentRefs[0].name=public',
        'gatewayApi.parentRefs[0].namespace=gateway-system',
        'gatewayApi.hostnames[0]=login.example.com',
        'gatewayApi.sessionPersistence=true',
      ],
    });
    assert.equal(objs.filter((o) => o.kind === 'Ingress').length, 0);
    const route = find(objs, 'HTTPRoute', 'fl-faceline');
    assert.equal(route.apiVersion, 'gateway.networking.k8s.io/v1');
    assert.deepEqual(Object.keys(route.spec).sort(), ['hostnames', 'parentRefs', 'rules']);
    assert.deepEqual(route.spec.parentRefs, [{ name: 'public', namespace: 'gateway-system' }]);
    assert.deepEqual(route.spec.hostnames, ['login.example.com']);
    const summary = route.spec.rules.map(
      (r: { matches: { path: { type: string; value: string } }[]; backendRefs: { name: string; port: number }[] }) => [
        r.matches.map((m) => `${m.path.type} ${m.path.value}`),
        r.backendRefs.map((b) => `${b.name}:${b.port}`),
      ],
    );
    assert.deepEqual(summary, [
      [['PathPrefix /api', 'PathPrefix /socket.io', 'PathPrefix /.well-known', 'PathPrefix /oidc'], ['fl-faceline-auth:8081']],
      [['PathPrefix /'], ['fl-faceline-web:8080']],
    ]);
    for (const rule of route.spec.rules) {
      for (const k of Object.keys(rule))
        assert.ok(['matches', 'backendRefs', 'sessionPersistence'].includes(k), `unknown HTTPRoute rule field ${k}`);
      for (const b of rule.backendRefs) {
        const svc = find(objs, 'Service', b.name);
        assert.ok(
          svc.spec.ports.some((p: { port: number }) => p.port === b.port),
          `${b.name} has no port ${b.port}`,
        );
      }
    }
    assert.deepEqual(route.spec.rules[0].sessionPersistence, { sessionName: 'faceline_auth', type: 'Cookie' });
    assert.equal(route.spec.rules[1].sessionPersistence, undefined);
  });
});
