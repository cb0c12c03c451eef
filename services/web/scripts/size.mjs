#!/usr/bin/env node
// Prints the gzipped bytes the browser downloads before the camera starts, per entry page:
// index.html, the entry script and CSS, and the static imports of that page's chunk
// (what Vite's manifest lists), which includes socket.io-client for the face pages.
// Run after `npm run build:app -w @faceline/web`.
import { readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';

const dir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'public');
const manifestPath = path.join(dir, '.vite', 'manifest.json');
if (!existsSync(manifestPath)) {
  console.error(`no build found at ${dir}: run npm run build:app -w @faceline/web first`);
  process.exit(1);
}
const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
const gz = (file) => gzipSync(readFileSync(path.join(dir, file)), { level: 9 }).length;

function closure(key, seen = new Set()) {
  const chunk = manifest[key];
  if (!chunk || seen.has(key)) return seen;
  seen.add(key);
  for (const imp of chunk.imports ?? []) closure(imp, seen);
  return seen;
}
function files(keys) {
  const out = new Set();
  for (const k of keys) {
    const c = manifest[k];
    out.add(c.file);
    for (const css of c.css ?? []) out.add(css);
  }
  return out;
}

const entryKey = Object.keys(manifest).find((k) => manifest[k].isEntry);
const base = files(closure(entryKey));
base.add('index.html');
const baseBytes = [...base].reduce((s, f) => s + gz(f), 0);
console.log(`shell (index.html + entry + css): ${(baseBytes / 1024).toFixed(1)} kB gzipped, ${base.size} files`);

const pages = Object.keys(manifest).filter((k) => k.startsWith('pages/'));
const rows = [];
for (const key of pages.sort()) {
  const all = new Set([...base, ...files(closure(key))]);
  const bytes = [...all].reduce((s, f) => s + gz(f), 0);
  rows.push({ page: key.replace(/^pages\/|\.ts$/g, ''), kB: +(bytes / 1024).toFixed(1), files: all.size });
}
console.table(rows);
console.log('"before the camera starts" = the shell plus the page that opens the camera (login, kiosk, enroll).');
