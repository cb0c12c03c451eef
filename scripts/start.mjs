#!/usr/bin/env node
// `npm start`: builds the browser app when needed, then runs vision, auth and web on this
// machine with embedded defaults (auth keeps its data in PGlite under .data/), prefixes
// their logs, prints the address to open, and stops everything on Ctrl-C / SIGTERM.
// Exits non-zero when a service dies during start-up (or later: a half-running Faceline
// is worse than a clear stop).
//
// Environment (all optional): PORT (web, 8080), HOST (web, 127.0.0.1), AUTH_PORT (8081), VISION_PORT (8082),
// FACELINE_LOG_FORMAT=json for raw pino lines; anything else (LIVENESS, DATABASE_URL,
// TLS_CERT_FILE, ...) is passed through to the services, which validate it.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import readline from 'node:readline';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const env = process.env;
const ports = {
  web: Number(env.PORT || 8080),
  auth: Number(env.AUTH_PORT || 8081),
  vision: Number(env.VISION_PORT || 8082),
};
const jsonLogs = env.FACELINE_LOG_FORMAT === 'json';
const colors = { vision: 35, auth: 36, web: 32, start: 33 };
const tty = process.stdout.isTTY;
const tag = (name) => (tty ? `\x1b[${colors[name]}m${name.padEnd(6)}\x1b[0m|` : `${name.padEnd(6)}|`);
const say = (msg) => console.log(`${tag('start')} ${msg}`);

if (!existsSync(path.join(root, 'node_modules'))) {
  console.error('Dependencies are missing: run `npm install` first.');
  process.exit(1);
}

// ---------------------------------------------------------------- browser app

function newestMtime(dir) {
  let newest = 0;
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    const st = statSync(p);
    newest = Math.max(newest, st.isDirectory() ? newestMtime(p) : st.mtimeMs);
  }
  return newest;
}

function buildAppIfNeeded() {
  const web = path.join(root, 'services', 'web');
  const index = path.join(web, 'dist', 'public', 'index.html');
  const sources = [path.join(web, 'src', 'client'), path.join(root, 'packages', 'contracts', 'src')];
  const builtAt = existsSync(index) ? statSync(index).mtimeMs : 0;
  const changedAt = Math.max(...sources.map(newestMtime), statSync(path.join(web, 'vite.config.mjs')).mtimeMs);
  if (builtAt > changedAt) return;
  say(builtAt ? 'browser app changed: rebuilding' : 'building the browser app (first start)');
  const vite = path.join(root, 'node_modules', 'vite', 'bin', 'vite.js');
  const res = spawnSync(process.execPath, [vite, 'build', '--logLevel', 'warn'], { cwd: web, stdio: 'inherit' });
  if (res.status !== 0) {
    console.error('Building the browser app failed (see above).');
    process.exit(res.status ?? 1);
  }
}

// ---------------------------------------------------------------- services

/** Turns a pino JSON line into "level message key=value"; other lines pass unchanged. */
const LEVELS = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
function pretty(line) {
  if (jsonLogs || !line.startsWith('{')) return line;
  try {
    const o = JSON.parse(line);
    const { level, time, pid, hostname, service, version, msg, ...rest } = o;
    const extra = Object.entries(rest)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : v}`)
      .join(' ');
    return `${LEVELS[level] ?? level} ${msg ?? ''}${extra ? `  ${extra}` : ''}`;
  } catch {
    return line;
  }
}

const services = [
  {
    name: 'vision',
    entry: 'services/vision/src/server.ts',
    port: ports.vision,
    env: { PORT: String(ports.vision), HOST: '127.0.0.1' },
  },
  {
    name: 'auth',
    entry: 'services/auth/src/server.ts',
    port: ports.auth,
    // Only web is reachable from outside; auth trusts its X-Forwarded-For (the audit log's IP).
    // PUBLIC_URL is the address printed below, and the issuer of Sign in with Faceline (OpenID Connect).
    env: {
      PORT: String(ports.auth),
      HOST: '127.0.0.1',
      VISION_URL: `http://127.0.0.1:${ports.vision}`,
      TRUST_PROXY: env.TRUST_PROXY ?? '127.0.0.1',
      PUBLIC_URL: env.PUBLIC_URL ?? `${env.TLS_CERT_FILE ? 'https' : 'http'}://localhost:${ports.web}`,
    },
  },
  {
    name: 'web',
    entry: 'services/web/src/server.ts',
    port: ports.web,
    // Loopback unless asked otherwise: other machines need HTTPS for the camera anyway
    // (set HOST=0.0.0.0 together with TLS_CERT_FILE/TLS_KEY_FILE to serve them).
    env: { PORT: String(ports.web), HOST: env.HOST ?? '127.0.0.1', AUTH_URL: `http://127.0.0.1:${ports.auth}` },
  },
].filter((s) => {
  if (existsSync(path.join(root, s.entry))) return true;
  say(`${s.name}: ${s.entry} does not exist yet, not started`);
  return false;
});

const children = new Map();
let stopping = false;
let started = false;
const webAddress = () => `${env.TLS_CERT_FILE ? 'https' : 'http'}://localhost:${ports.web}`;

// While no administrator exists, auth logs a one-time setup link path (/register?setup=…);
// shown here with web's address, since that is where the first operator opens it.
let setupPath;
function noticeSetupLink(line) {
  if (!line.startsWith('{') || !line.includes('setupPath')) return;
  try {
    const p = JSON.parse(line).setupPath;
    if (typeof p !== 'string' || p.includes('<')) return;
    setupPath = p;
    if (started) sayAdminLink();
  } catch {
    /* not JSON */
  }
}
function sayAdminLink() {
  say(`No administrator yet: open ${webAddress()}${setupPath} to create the first administrator account (the link works once).`);
}

function stopAll(code) {
  if (stopping) return;
  stopping = true;
  say('stopping…');
  for (const child of children.values()) child.kill('SIGTERM');
  const force = setTimeout(() => {
    for (const child of children.values()) child.kill('SIGKILL');
  }, 15_000);
  force.unref();
  const check = setInterval(() => {
    if (children.size === 0) {
      clearInterval(check);
      process.exit(code);
    }
  }, 100);
}

function launch(service) {
  const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', service.entry], {
    cwd: root,
    env: { ...env, ...service.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.set(service.name, child);
  for (const stream of [child.stdout, child.stderr]) {
    readline.createInterface({ input: stream }).on('line', (line) => {
      if (service.name === 'auth') noticeSetupLink(line);
      console.log(`${tag(service.name)} ${pretty(line)}`);
    });
  }
  child.on('exit', (code, signal) => {
    children.delete(service.name);
    if (stopping) return;
    console.error(
      `${tag('start')} ${service.name} exited ${signal ? `on ${signal}` : `with code ${code}`}${started ? '' : ' during start-up'}; stopping the others`,
    );
    stopAll(code || 1);
  });
}

async function waitHealthy(service, deadline) {
  const url = `http://127.0.0.1:${service.port}/healthz`;
  while (Date.now() < deadline && !stopping) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
      if (res.ok) return true;
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  return false;
}

process.on('SIGINT', () => stopAll(0));
process.on('SIGTERM', () => stopAll(0));

buildAppIfNeeded();
for (const s of services) launch(s);

// Vision builds its models at start-up; give it time on a slow machine.
const deadline = Date.now() + 180_000;
const healthy = await Promise.all(services.map((s) => waitHealthy(s, deadline)));
if (stopping) {
  // a child died during start-up; stopAll is already running
} else if (healthy.every(Boolean)) {
  started = true;
  const web = services.find((s) => s.name === 'web');
  say('');
  say(web ? `Faceline is running: open ${webAddress()}` : 'web is not available, nothing to open');
  if (web && setupPath) sayAdminLink();
  say('Press Ctrl-C to stop.');
  say('');
} else {
  const slow = services.filter((_, i) => !healthy[i]).map((s) => s.name);
  console.error(`${tag('start')} ${slow.join(', ')} did not become healthy in time; stopping`);
  stopAll(1);
}
