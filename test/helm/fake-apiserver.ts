/**
 * The smallest Kubernetes API server helm needs for `helm template --dry-run=server`:
 * version and discovery documents, GET of single objects from an in-memory store, 404 for
 * everything else. It lets the tests see what the chart's `lookup` calls do on an upgrade
 * (an existing Secret is read back) without a cluster. Loopback only, port 0.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

interface Resource {
  name: string;
  kind: string;
  namespaced: boolean;
}

const GROUPS: Record<string, Resource[]> = {
  v1: [
    { name: 'secrets', kind: 'Secret', namespaced: true },
    { name: 'configmaps', kind: 'ConfigMap', namespaced: true },
    { name: 'services', kind: 'Service', namespaced: true },
    { name: 'serviceaccounts', kind: 'ServiceAccount', namespaced: true },
    { name: 'pods', kind: 'Pod', namespaced: true },
    { name: 'persistentvolumeclaims', kind: 'PersistentVolumeClaim', namespaced: true },
    { name: 'namespaces', kind: 'Namespace', namespaced: false },
  ],
  'apps/v1': [
    { name: 'deployments', kind: 'Deployment', namespaced: true },
    { name: 'statefulsets', kind: 'StatefulSet', namespaced: true },
  ],
  'policy/v1': [{ name: 'poddisruptionbudgets', kind: 'PodDisruptionBudget', namespaced: true }],
  'autoscaling/v2': [{ name: 'horizontalpodautoscalers', kind: 'HorizontalPodAutoscaler', namespaced: true }],
  'networking.k8s.io/v1': [
    { name: 'ingresses', kind: 'Ingress', namespaced: true },
    { name: 'networkpolicies', kind: 'NetworkPolicy', namespaced: true },
  ],
};

export interface FakeApiServer {
  kubeconfig: string;
  requests: string[];
  /** Stores an object as if a previous release had created it. */
  put(obj: { apiVersion: string; kind: string; metadata: { name: string; namespace: string } }): void;
  close(): Promise<void>;
}

export async function startFakeApiServer(): Promise<FakeApiServer> {
  const store = new Map<string, unknown>();
  const requests: string[] = [];
  const resourceOf = (apiVersion: string, kind: string): string => {
    const r = GROUPS[apiVersion]?.find((x) => x.kind === kind);
    if (!r) throw new Error(`fake API server does not serve ${apiVersion} ${kind}`);
    return r.name;
  };
  const server = http.createServer((req, res) => {
    const url = (req.url ?? '/').split('?')[0]!;
    requests.push(`${req.method} ${url}`);
    const send = (status: number, body: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const notFound = (): void =>
      send(404, { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404, message: `${url} not found` });
    if (req.method !== 'GET') return send(405, { kind: 'Status', apiVersion: 'v1', status: 'Failure', code: 405 });
    if (url === '/version') return send(200, { major: '1', minor: '33', gitVersion: 'v1.33.5+k3s1', platform: 'linux/amd64' });
    if (url === '/api') return send(200, { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [] });
    if (url === '/apis') {
      const groups = Object.keys(GROUPS)
        .filter((gv) => gv.includes('/'))
        .map((gv) => {
          const [group, version] = gv.split('/') as [string, string];
          const v = { groupVersion: gv, version };
          return { name: group, versions: [v], preferredVersion: v };
        });
      return send(200, { kind: 'APIGroupList', apiVersion: 'v1', groups });
    }
    const discovery = url === '/api/v1' ? 'v1' : url.startsWith('/apis/') && url.split('/').length === 4 ? url.slice(6) : undefined;
    if (discovery) {
      const resources = GROUPS[discovery];
      if (!resources) return notFound();
      return send(200, {
        kind: 'APIResourceList',
        groupVersion: discovery,
        resources: resources.map((r) => ({
          ...r,
          singularName: r.kind.toLowerCase(),
          verbs: ['get', 'list', 'create', 'update', 'patch', 'delete'],
        })),
      });
    }
    const obj = store.get(url);
    return obj ? send(200, obj) : notFound();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'faceline-kube-'));
  const kubeconfig = path.join(dir, 'config');
  writeFileSync(
    kubeconfig,
    [
      'apiVersion: v1',
      'kind: Config',
      `clusters: [{name: fake, cluster: {server: "http://127.0.0.1:${port}"}}]`,
      'users: [{name: fake, user: {token: fake}}]',
      'contexts: [{name: fake, context: {cluster: fake, user: fake}}]',
      'current-context: fake',
      '',
    ].join('\n'),
  );
  return {
    kubeconfig,
    requests,
    put(obj) {
      const prefix = obj.apiVersion.includes('/') ? `/apis/${obj.apiVersion}` : `/api/${obj.apiVersion}`;
      store.set(`${prefix}/namespaces/${obj.metadata.namespace}/${resourceOf(obj.apiVersion, obj.kind)}/${obj.metadata.name}`, obj);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          rmSync(dir, { recursive: true, force: true });
          resolve();
        });
      }),
  };
}
