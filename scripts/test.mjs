#!/usr/bin/env node
// Runs every test with Node's built-in runner (TypeScript through tsx).
//   npm test            type-check, then unit tests (src/**/*.test.ts) and system tests (test/**/*.test.ts)
//   npm test -- --unit  unit tests only
//   npm test -- FILE…   just these files
// System tests start real processes (vision, auth, web, Chromium) and use the local
// PostgreSQL (DATABASE_URL, default postgres://postgres@127.0.0.1:5432/test).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const unitOnly = args.includes('--unit');
const explicit = args.filter((a) => !a.startsWith('--'));

function walk(dir, out = []) {
  if (!existsSync(dir)) return out;
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'dist' || name.startsWith('.')) continue;
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

let files;
if (explicit.length) files = explicit.map((f) => path.resolve(f));
else {
  const dirs = ['packages', 'services'].flatMap((d) =>
    existsSync(path.join(root, d)) ? readdirSync(path.join(root, d)).map((n) => path.join(root, d, n)) : [],
  );
  const unit = dirs.flatMap((d) => walk(path.join(d, 'src')));
  const system = unitOnly ? [] : [...dirs.flatMap((d) => walk(path.join(d, 'test'))), ...walk(path.join(root, 'test'))];
  files = [...unit.sort(), ...system.sort()];
}

if (!explicit.length) {
  const tc = spawnSync('npx', ['tsc', '-b', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
  if (tc.status !== 0) {
    console.error('type check failed');
    process.exit(tc.status ?? 1);
  }
}

const concurrency = process.env.TEST_CONCURRENCY ?? '1';
const res = spawnSync(
  process.execPath,
  ['--conditions=source', '--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, '--test-reporter=spec', ...files],
  { cwd: root, stdio: 'inherit', env: { ...process.env, NODE_ENV: 'test' } },
);
process.exit(res.status ?? 1);
