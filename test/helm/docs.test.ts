// The chart's generated and hand-kept artefacts agree with values.yaml: every value has a
// `## @param` line, the README table is current, the schema describes every value and
// closes every object it defines.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { CHART, ROOT, VALUES_DIR, deployment, podSpec, render } from './chart.js';
// @ts-expect-error -- plain ESM script without type declarations
import { coverageProblems, leafPaths, readParams, updatedReadme } from '../../scripts/chart-docs.mjs';

const valuesText = readFileSync(path.join(CHART, 'values.yaml'), 'utf8');
const values = parse(valuesText) as Record<string, unknown>;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Schema = Record<string, any>;
const schema = JSON.parse(readFileSync(path.join(CHART, 'values.schema.json'), 'utf8')) as Schema;

function resolve(s: Schema): Schema {
  if (s.$ref) return resolve(schema.definitions[(s.$ref as string).replace('#/definitions/', '')]);
  return s;
}

/** The schema node that describes a dotted value path, or undefined. */
function schemaAt(key: string): Schema | undefined {
  let cur: Schema | undefined = schema;
  for (const part of key.split('.')) {
    cur = cur && resolve(cur);
    if (cur?.type !== 'object') return undefined;
    if (cur.properties?.[part]) cur = cur.properties[part];
    else if (cur.additionalProperties && typeof cur.additionalProperties === 'object') cur = cur.additionalProperties;
    else if (cur.additionalProperties === undefined)
      return {}; // inside a free-form Kubernetes object
    else return undefined;
  }
  return cur && resolve(cur);
}

describe('helm chart: documentation and schema', () => {
  it('every value has a ## @param comment and every @param names a value', () => {
    assert.deepEqual(coverageProblems(valuesText), []);
    assert.ok((readParams(valuesText) as { key?: string }[]).filter((p) => p.key).length > 100);
  });

  it('the README values table is generated from the current values.yaml', () => {
    const readme = readFileSync(path.join(CHART, 'README.md'), 'utf8');
    assert.equal(readme, updatedReadme(readme, valuesText), 'README.md is stale: run `npm run chart:docs`');
    for (const key of ['vision.placement', 'global.edge.nodeLabel.key', 'database.external.existingSecret']) {
      assert.ok(readme.includes(`| \`${key}\` |`), `${key} missing from the README table`);
    }
  });

  it('the schema describes every value in values.yaml with a matching type', () => {
    for (const leaf of leafPaths(values) as string[]) {
      const node = schemaAt(leaf);
      assert.ok(node, `values.schema.json does not allow ${leaf}`);
      if (!node.type) continue; // inside a pass-through Kubernetes object (its keys may contain dots)
      let v: unknown = values;
      for (const part of leaf.split('.')) v = (v as Record<string, unknown>)[part];
      const type = Array.isArray(v) ? 'array' : v === null ? 'null' : Number.isInteger(v) ? 'integer' : typeof v;
      const allowed = [node.type].flat();
      assert.ok(
        allowed.includes(type) || (type === 'integer' && allowed.includes('number')),
        `${leaf}: value is ${type}, schema wants ${allowed}`,
      );
    }
  });

  it('every object the schema defines refuses unknown keys, except maps, pass-through Kubernetes objects and `global`', () => {
    const open: string[] = [];
    const walk = (s: Schema, at: string): void => {
      if (s.type === 'object' && s.properties) {
        if (s.additionalProperties !== false) open.push(at);
        for (const [k, v] of Object.entries(s.properties)) walk(v as Schema, `${at}.${k}`);
      }
    };
    walk(schema, '$');
    for (const [name, def] of Object.entries(schema.definitions as Record<string, Schema>)) walk(def, `definitions.${name}`);
    // Rancher's Apps and Fleet add keys of their own under global (global.cattle.*, global.fleet.*).
    assert.deepEqual(open, ['$.global']);
    assert.equal(schema.additionalProperties, false);
  });

  it('the chart appVersion is the project version, so image tags follow releases', () => {
    const chart = parse(readFileSync(path.join(CHART, 'Chart.yaml'), 'utf8')) as { appVersion: string };
    const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };
    assert.equal(chart.appVersion, pkg.version);
  });

  it('every target of the Fleet example in docs/kubernetes.md renders with the chart', () => {
    const guide = readFileSync(path.join(ROOT, 'docs', 'kubernetes.md'), 'utf8');
    const marker = guide.indexOf('<!-- fleet.yaml example');
    assert.ok(marker >= 0, 'fleet.yaml example marker missing from docs/kubernetes.md');
    const block = guide.slice(marker).match(/```yaml\n([\s\S]*?)```/);
    assert.ok(block?.[1], 'no yaml block after the marker');
    const fleet = parse(block[1]) as {
      helm: { chart: string; valuesFiles: string[] };
      targetCustomizations: {
        name: string;
        clusterSelector: { matchLabels: Record<string, string> };
        helm: { values: Record<string, unknown> };
      }[];
    };
    assert.equal(fleet.helm.chart, './chart');
    const files = fleet.helm.valuesFiles.map((f) => path.join(VALUES_DIR, path.basename(f)));
    assert.ok(fleet.targetCustomizations.length >= 2);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'faceline-fleet-'));
    try {
      for (const target of fleet.targetCustomizations) {
        const file = path.join(dir, `${target.name}.yaml`);
        writeFileSync(file, stringify(target.helm.values));
        const objs = render({ files: [...files, file] });
        const site = target.clusterSelector.matchLabels['faceline.io/site'];
        const terms = podSpec(deployment(objs, 'vision')).affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution
          .nodeSelectorTerms;
        assert.deepEqual(terms, [{ matchExpressions: [{ key: 'faceline.io/site', operator: 'In', values: [site] }] }], target.name);
        // each cluster is its own site of the plant: auth in site mode under the cluster's name
        const cm = objs.find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'fl-faceline-auth');
        assert.equal(cm?.data.AUTH_MODE, 'site', target.name);
        assert.equal(cm?.data.SITE_ID, site, target.name);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the Rancher questions name real values with matching types, defaults and options', () => {
    interface Question {
      variable: string;
      type: string;
      default: unknown;
      options?: string[];
      subquestions?: Question[];
    }
    const questions = (parse(readFileSync(path.join(CHART, 'questions.yaml'), 'utf8')) as { questions: Question[] }).questions;
    const all = questions.flatMap((q) => [q, ...(q.subquestions ?? [])]);
    assert.ok(all.length >= 10);
    const jsType: Record<string, string> = {
      boolean: 'boolean',
      int: 'number',
      enum: 'string',
      string: 'string',
      hostname: 'string',
      secret: 'string',
      storageclass: 'string',
    };
    for (const q of all) {
      let v: unknown = values;
      for (const part of q.variable.split('.')) v = (v as Record<string, unknown> | undefined)?.[part];
      assert.notEqual(v, undefined, `${q.variable} is not a value`);
      assert.equal(typeof v, jsType[q.type], `${q.variable}: question type ${q.type}, value ${typeof v}`);
      assert.deepEqual(q.default, v, `${q.variable}: question default differs from values.yaml`);
      if (q.options)
        assert.deepEqual([...q.options].sort(), [...((schemaAt(q.variable)?.enum ?? []) as string[])].sort(), `${q.variable} options`);
    }
  });
});
