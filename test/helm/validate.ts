/**
 * Validation of rendered objects: kubernetes-models checks types, required fields and enums
 * but lets unknown fields through (Kubernetes would drop or reject them), so a second pass
 * walks each object against kubernetes-models' TypeScript declarations and reports every
 * field the API does not define — a misspelt `readOnlyRootFileSystem` would otherwise
 * silently leave a container writable.
 */
import { createRequire } from 'node:module';
import ts from 'typescript';
import { ROOT, type K8sObject } from './chart.js';

const require = createRequire(import.meta.url);

/** apiVersion/kind -> module path inside kubernetes-models and exported interface name. */
const MODELS: Record<string, { module: string; model: string; iface: string }> = {};
for (const [gv, dir, kinds] of [
  ['v1', 'v1', ['ConfigMap', 'Secret', 'Service', 'ServiceAccount', 'Pod', 'PersistentVolumeClaim']],
  ['apps/v1', 'apps/v1', ['Deployment', 'StatefulSet']],
  ['policy/v1', 'policy/v1', ['PodDisruptionBudget']],
  ['autoscaling/v2', 'autoscaling/v2', ['HorizontalPodAutoscaler']],
  ['networking.k8s.io/v1', 'networking.k8s.io/v1', ['Ingress', 'NetworkPolicy']],
] as const) {
  for (const kind of kinds) MODELS[`${gv}/${kind}`] = { module: `kubernetes-models/${dir}/${kind}`, model: kind, iface: `I${kind}` };
}

/** Kinds from CRDs that kubernetes-models does not ship; checked structurally in the tests. */
export const CRD_KINDS = new Set([
  'monitoring.coreos.com/v1/ServiceMonitor',
  'gateway.networking.k8s.io/v1/HTTPRoute',
  'traefik.io/v1alpha1/Middleware',
]);

export function validateWithModels(obj: K8sObject): string[] {
  const key = `${obj.apiVersion}/${obj.kind}`;
  if (CRD_KINDS.has(key)) return [];
  const entry = MODELS[key];
  if (!entry) return [`${key}: no kubernetes-models model known to the test; add it to MODELS`];
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const Model = (require(entry.module) as Record<string, any>)[entry.model];
  try {
    new Model(obj).validate();
    return [];
  } catch (err) {
    return [`${key} ${obj.metadata?.name}: ${(err as Error).message}`];
  }
}

let checker: ts.TypeChecker | undefined;
let roots: Map<string, ts.Type> | undefined;
let anchor: ts.Node | undefined;

function loadTypes(): void {
  const fileName = `${ROOT}/test/helm/__k8s_types__.ts`;
  const entries = Object.entries(MODELS);
  const source = [
    ...entries.map(([, m], i) => `import type { ${m.iface} as T${i} } from '${m.module}';`),
    `export interface Roots {`,
    ...entries.map(([k], i) => `  ${JSON.stringify(k)}: T${i};`),
    `}`,
  ].join('\n');
  const options: ts.CompilerOptions = {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    types: [],
  };
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (name, lang, onError, create) =>
    name === fileName ? ts.createSourceFile(name, source, lang) : getSourceFile(name, lang, onError, create);
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (name) => name === fileName || fileExists(name);
  const program = ts.createProgram([fileName], options, host);
  checker = program.getTypeChecker();
  const sf = program.getSourceFile(fileName)!;
  anchor = sf;
  const iface = sf.statements.find((s): s is ts.InterfaceDeclaration => ts.isInterfaceDeclaration(s) && s.name.text === 'Roots')!;
  const rootsType = checker.getTypeAtLocation(iface);
  roots = new Map();
  for (const [k] of entries) {
    const prop = rootsType.getProperty(k);
    if (!prop) throw new Error(`type for ${k} not found`);
    const t = checker.getTypeOfSymbolAtLocation(prop, sf);
    if (checker.getPropertiesOfType(t).length === 0) throw new Error(`could not resolve the declarations of ${k}`);
    roots.set(k, t);
  }
}

function walk(type: ts.Type, value: unknown, at: string, out: string[]): void {
  if (value === null || typeof value !== 'object') return;
  const c = checker!;
  let t = c.getNonNullableType(type);
  if (t.isUnion()) {
    const objects = t.types.filter((u) => u.flags & ts.TypeFlags.Object);
    if (objects.length !== 1) return;
    t = objects[0]!;
  }
  if (Array.isArray(value)) {
    if (c.isArrayType(t)) {
      const el = c.getTypeArguments(t as ts.TypeReference)[0];
      if (el) for (const [i, v] of value.entries()) walk(el, v, `${at}[${i}]`, out);
    }
    return;
  }
  if (c.getIndexInfosOfType(t).length > 0) return; // maps: labels, annotations, resources
  if (c.getPropertiesOfType(t).length === 0) return; // free-form (e.g. `object`)
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    const prop = c.getPropertyOfType(t, k);
    if (!prop) {
      out.push(`${at}.${k}`);
      continue;
    }
    walk(c.getTypeOfSymbolAtLocation(prop, anchor!), v, `${at}.${k}`, out);
  }
}

/** Field paths of `obj` that its Kubernetes type does not define. */
export function unknownFields(obj: K8sObject): string[] {
  const key = `${obj.apiVersion}/${obj.kind}`;
  if (CRD_KINDS.has(key)) return [];
  if (!roots) loadTypes();
  const type = roots!.get(key);
  if (!type) return [`${key}: no declarations known to the test`];
  const out: string[] = [];
  walk(type, obj, `${obj.kind}/${obj.metadata.name}`, out);
  return out;
}
