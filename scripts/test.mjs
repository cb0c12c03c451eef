#!/usr/bin/env node
// Runs every test with Node's built-in runner (TypeScript through tsx).
//   npm test            lint and format check (Biome), type-check (build, then every test and script),
//                       unit tests (src/**/*.test.ts),
//                       system tests (services/*/test, test/)
//   npm test -- --unit  lint, type-check and unit tests only: no database, face set, models or system commands
//   npm test -- FILE…   just these files
// System tests start real processes (vision, auth, web, Chromium, HAProxy, private PostgreSQL
// servers) and use the local PostgreSQL (TEST_DATABASE_URL, default
// postgres://postgres@127.0.0.1:5432/test). The system commands they need are checked first:
// as root the missing ones are installed with scripts/system-deps.sh, otherwise the run stops.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { missingSystemCommands } from './system-requirements.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const unitOnly = args.includes('--unit');
const explicit = args.filter((a) => !a.startsWith('--'));

/**
 * @param {string} dir
 * @param {string[]} out
 */
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

/** A unit test lives beside the code: <workspace>/src/…; everything else is a system test. */
const isUnit = (/** @type {string} */ file) =>
  /^(packages|services)\/[^/]+\/src\//.test(path.relative(root, file).split(path.sep).join('/'));

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

if (files.some((f) => !isUnit(f))) {
  let missing = missingSystemCommands();
  if (missing.length && process.getuid?.() === 0) {
    const deps = spawnSync('bash', [path.join(root, 'scripts/system-deps.sh')], { cwd: root, stdio: 'inherit' });
    if (deps.status !== 0) process.exit(deps.status ?? 1);
    missing = missingSystemCommands();
  }
  if (missing.length) {
    console.error(
      `npm test: the system tests need ${missing.map((m) => m.what).join(', ')}: run \`sudo bash scripts/system-deps.sh\` (or \`npm test -- --unit\` for the unit tests alone)`,
    );
    process.exit(1);
  }
}

if (!explicit.length) {
  // lint and format check (biome.json): reports, writes nothing; `npm run format` fixes the layout
  const lint = spawnSync('npx', ['biome', 'ci', '--reporter=summary', '.'], { cwd: root, stdio: 'inherit' });
  if (lint.status !== 0) {
    console.error('lint or format check failed: run `npm run lint` to see where, `npm run format` to fix the layout');
    process.exit(lint.status ?? 1);
  }
  // the build projects, then the check projects: every test, script and benchmark (tsconfig.check.json)
  const tc = spawnSync('npx', ['tsc', '-b', 'tsconfig.build.json', 'tsconfig.check.json'], { cwd: root, stdio: 'inherit' });
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
