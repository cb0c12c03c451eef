#!/usr/bin/env node
// Runs compose.yaml with plain `podman network/volume/run` commands.
//
// Why not podman-compose: the version Debian ships with these machines' Podman (1.0.3) ignores
// `profiles` (it would start the TLS proxy every time) and `depends_on` conditions, and Podman
// 4.3 without systemd never runs health checks on its own, so "start auth when PostgreSQL is
// healthy" cannot happen there. This runner reads the same compose.yaml, translates every key
// the file uses into podman arguments, REFUSES keys it does not know (so the file and this
// translation cannot silently drift apart), and waits for health by running each container's
// health check itself (`podman healthcheck run`). Docker Compose and newer `podman compose`
// read compose.yaml directly; this exists to verify that file here.
//
//   node scripts/containers/compose-podman.mjs [-f compose.yaml] [-p name] [--profile P]... COMMAND
//     up [SERVICE...]        create networks, volumes and containers in dependency order
//     down [-v]              remove containers and networks (-v: volumes too)
//     restart SERVICE...     restart containers, then wait until they are healthy again
//     wait SERVICE...        wait until the services' containers are healthy
//     ps | logs SERVICE | config (the podman commands `up` would run)
//
// Names follow Docker Compose: containers <project>-<service>-1, networks <project>_<net>,
// volumes <project>_<vol>, DNS name = service name on every network of the service.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';

// ------------------------------------------------------------------ arguments
const argv = process.argv.slice(2);
let file = 'compose.yaml';
let project;
const profiles = new Set((process.env.COMPOSE_PROFILES ?? '').split(',').filter(Boolean));
const rest = [];
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  if (a === '-f' || a === '--file') file = argv[++i];
  else if (a === '-p' || a === '--project-name') project = argv[++i];
  else if (a === '--profile') profiles.add(argv[++i]);
  else rest.push(a);
}
const [command, ...args] = rest;
const dir = path.dirname(path.resolve(file));

/** @param {string} msg @returns {never} */
function fail(msg) {
  console.error(`compose-podman: ${msg}`);
  process.exit(1);
}

// ------------------------------------------------------------------ interpolation (${VAR:-default} and friends)
function loadDotEnv() {
  const env = {};
  const f = path.join(dir, '.env');
  if (!existsSync(f)) return env;
  for (const line of readFileSync(f, 'utf8').split('\n')) {
    const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/.exec(line);
    if (m && !line.trimStart().startsWith('#')) env[m[1]] = m[2].replace(/^(['"])(.*)\1$/, '$2');
  }
  return env;
}
const vars = { ...loadDotEnv(), ...process.env };

/** Compose's interpolation: $$, $VAR, ${VAR}, ${VAR:-d}, ${VAR-d}, ${VAR:?e}, ${VAR?e}, ${VAR:+r}; nested defaults. */
function interpolate(s) {
  let out = '';
  for (let i = 0; i < s.length; ) {
    if (s[i] !== '$') {
      out += s[i++];
      continue;
    }
    if (s[i + 1] === '$') {
      out += '$';
      i += 2;
      continue;
    }
    if (s[i + 1] === '{') {
      let depth = 1,
        j = i + 2;
      for (; j < s.length && depth; j++) {
        if (s[j] === '{') depth++;
        else if (s[j] === '}') depth--;
      }
      if (depth) fail(`unterminated \${ in "${s}"`);
      const body = s.slice(i + 2, j - 1);
      const m = /^([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([\s\S]*))?$/.exec(body);
      if (!m) fail(`bad substitution "\${${body}}"`);
      const [, name, op, arg = ''] = m;
      const v = vars[name];
      const unsetOrEmpty = v === undefined || (op?.startsWith(':') && v === '');
      if (!op) out += v ?? '';
      else if (op.endsWith('-')) out += unsetOrEmpty ? interpolate(arg) : v;
      else if (op.endsWith('?')) {
        if (unsetOrEmpty) fail(`${name}: ${interpolate(arg) || 'required'}`);
        out += v;
      } else if (op.endsWith('+')) out += unsetOrEmpty ? '' : interpolate(arg);
      i = j;
      continue;
    }
    const m = /^\$([A-Za-z_][A-Za-z0-9_]*)/.exec(s.slice(i));
    if (m) {
      out += vars[m[1]] ?? '';
      i += m[0].length;
      continue;
    }
    out += s[i++];
  }
  return out;
}
function deep(v) {
  if (typeof v === 'string') return interpolate(v);
  if (Array.isArray(v)) return v.map(deep);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, deep(x)]));
  return v;
}

// ------------------------------------------------------------------ model
const raw = parse(readFileSync(file, 'utf8'), { merge: true });
const compose = deep(Object.fromEntries(Object.entries(raw).filter(([k]) => !k.startsWith('x-'))));
project ??= process.env.COMPOSE_PROJECT_NAME ?? compose.name ?? path.basename(dir);
for (const k of Object.keys(compose)) {
  if (!['name', 'services', 'networks', 'volumes', 'secrets'].includes(k)) fail(`top-level key "${k}" is not supported`);
}
const services = compose.services ?? {};
const networks = compose.networks ?? {};
const volumes = compose.volumes ?? {};
const secrets = compose.secrets ?? {};

const KNOWN = new Set([
  'image',
  'build',
  'restart',
  'read_only',
  'tmpfs',
  'cap_drop',
  'cap_add',
  'security_opt',
  'stop_grace_period',
  'environment',
  'secrets',
  'volumes',
  'networks',
  'network_mode',
  'ports',
  'depends_on',
  'healthcheck',
  'deploy',
  'profiles',
  'entrypoint',
  'command',
  'shm_size',
  'user',
  'working_dir',
  'labels',
  'init',
]);
for (const [name, s] of Object.entries(services)) {
  const unknown = Object.keys(s).filter((k) => !KNOWN.has(k));
  if (unknown.length) fail(`service ${name}: unsupported key(s) ${unknown.join(', ')}`);
  const dep = Object.keys(s.deploy ?? {}).filter((k) => k !== 'resources');
  if (dep.length) fail(`service ${name}: unsupported deploy key(s) ${dep.join(', ')}`);
}

const active = (s) => !s.profiles || s.profiles.some((p) => profiles.has(p));
const ctr = (svc) => `${project}-${svc}-1`;
const net = (n) => networks[n]?.name ?? `${project}_${n}`;
const vol = (v) => volumes[v]?.name ?? `${project}_${v}`;
const labels = (svc) => [
  '--label',
  `com.docker.compose.project=${project}`,
  ...(svc ? ['--label', `com.docker.compose.service=${svc}`] : []),
];
const durationSeconds = (d) => {
  if (d === undefined) return undefined;
  let total = 0;
  for (const [, n, u] of String(d).matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)) total += Number(n) * { ms: 0.001, s: 1, m: 60, h: 3600 }[u];
  return total;
};
const depsOf = (s) =>
  Array.isArray(s.depends_on) ? Object.fromEntries(s.depends_on.map((d) => [d, { condition: 'service_started' }])) : (s.depends_on ?? {});

/** podman run arguments for one service, in compose's meaning. */
function runArgs(name) {
  const s = services[name];
  const a = ['run', '-d', '--name', ctr(name), ...labels(name)];
  if (s.network_mode) a.push('--network', s.network_mode);
  else {
    for (const n of s.networks ?? ['default']) {
      if (n !== 'default' && !networks[n]) fail(`service ${name}: network ${n} is not declared`);
      a.push('--network', net(n));
    }
    a.push('--network-alias', name);
  }
  if (s.restart) a.push('--restart', s.restart);
  // Podman's --read-only also mounts tmpfs on /tmp, /run, /var/tmp; Docker's does not.
  if (s.read_only) a.push('--read-only', '--read-only-tmpfs=false');
  for (const t of [].concat(s.tmpfs ?? [])) a.push('--tmpfs', t);
  for (const c of s.cap_drop ?? []) a.push('--cap-drop', c);
  for (const c of s.cap_add ?? []) a.push('--cap-add', c);
  for (const o of s.security_opt ?? []) a.push('--security-opt', o.replace(/^no-new-privileges:true$/, 'no-new-privileges'));
  const grace = durationSeconds(s.stop_grace_period);
  if (grace !== undefined) a.push('--stop-timeout', String(Math.ceil(grace)));
  const env = Array.isArray(s.environment)
    ? Object.fromEntries(s.environment.map((e) => e.split(/=(.*)/s).slice(0, 2)))
    : (s.environment ?? {});
  for (const [k, v] of Object.entries(env)) a.push('-e', `${k}=${v ?? ''}`);
  // File secrets are bind mounts at /run/secrets/<name>, as Docker Compose does outside Swarm.
  for (const sec of s.secrets ?? []) {
    const src = typeof sec === 'string' ? sec : sec.source;
    const target = typeof sec === 'string' ? sec : (sec.target ?? sec.source);
    const def = secrets[src];
    if (!def?.file) fail(`service ${name}: secret ${src} is not declared with a file`);
    const f = path.resolve(dir, def.file);
    if (!existsSync(f)) fail(`secret file ${f} is missing (run deploy/compose/generate-secrets.sh)`);
    a.push('-v', `${f}:${target.startsWith('/') ? target : `/run/secrets/${target}`}:ro`);
  }
  for (const v of s.volumes ?? []) {
    if (typeof v !== 'string') fail(`service ${name}: only short volume syntax is supported`);
    const [src, target, mode] = v.split(':');
    if (src.startsWith('.') || src.startsWith('/')) a.push('-v', `${path.resolve(dir, src)}:${target}${mode ? `:${mode}` : ''}`);
    else {
      if (!(src in volumes)) fail(`service ${name}: volume ${src} is not declared`);
      a.push('-v', `${vol(src)}:${target}${mode ? `:${mode}` : ''}`);
    }
  }
  for (const p of s.ports ?? []) a.push('-p', String(p));
  if (s.shm_size) a.push('--shm-size', String(s.shm_size));
  if (s.user) a.push('--user', String(s.user));
  if (s.working_dir) a.push('--workdir', s.working_dir);
  if (s.init) a.push('--init');
  for (const [k, v] of Object.entries(s.labels ?? {})) a.push('--label', `${k}=${v}`);
  const hc = s.healthcheck;
  if (hc?.disable) a.push('--no-healthcheck');
  else if (hc) {
    // Podman takes a JSON array as the exec form (without compose's leading "CMD") and a plain
    // string as a shell command (compose's CMD-SHELL).
    const t = typeof hc.test === 'string' ? ['CMD-SHELL', hc.test] : hc.test;
    if (t?.[0] === 'CMD') a.push('--health-cmd', JSON.stringify(t.slice(1)));
    else if (t?.[0] === 'CMD-SHELL') a.push('--health-cmd', t[1]);
    else if (t?.[0] === 'NONE') a.push('--no-healthcheck');
    else if (t) fail(`service ${name}: healthcheck.test must start with CMD, CMD-SHELL or NONE`);
    if (hc.interval) a.push('--health-interval', hc.interval);
    if (hc.timeout) a.push('--health-timeout', hc.timeout);
    if (hc.retries !== undefined) a.push('--health-retries', String(hc.retries));
    if (hc.start_period) a.push('--health-start-period', hc.start_period);
  }
  const lim = s.deploy?.resources?.limits ?? {};
  if (lim.cpus) a.push('--cpus', String(lim.cpus));
  if (lim.memory) a.push('--memory', String(lim.memory).toLowerCase());
  if (lim.pids) a.push('--pids-limit', String(lim.pids));
  if (s.entrypoint) a.push('--entrypoint', Array.isArray(s.entrypoint) ? JSON.stringify(s.entrypoint) : s.entrypoint);
  if (!s.image) fail(`service ${name}: needs an image (build it first; this runner does not build)`);
  a.push(s.image);
  if (s.command) a.push(...(Array.isArray(s.command) ? s.command : s.command.split(' ')));
  return a;
}

// ------------------------------------------------------------------ podman
function logsOf(c) {
  const r = podman(['logs', '--tail', '60', c], { check: false, quiet: true });
  return `${r.stdout}\n${r.stderr}`.trim();
}

function podman(a, { check = true, quiet = false } = {}) {
  const r = spawnSync('podman', a, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  // Podman 4.3 logs an error about systemd timers for every health check here; the checks
  // themselves work (this runner runs them), so that one line is noise.
  const stderr = r.stderr
    .split('\n')
    .filter((l) => l && !/systemd connection .* healthchecks/.test(l))
    .join('\n');
  if (check && r.status !== 0) fail(`podman ${a.join(' ')} failed (${r.status}):\n${stderr}`);
  if (!quiet && stderr) console.error(stderr);
  return { status: r.status, stdout: r.stdout.trim(), stderr };
}
const exists = (kind, name) => podman([kind, 'exists', name], { check: false, quiet: true }).status === 0;
const state = (name) => podman(['inspect', '--format', '{{.State.Status}}', name], { check: false, quiet: true }).stdout;
const hasHealthcheck = (name) =>
  podman(['inspect', '--format', '{{if .Config.Healthcheck}}yes{{end}}', ctr(name)], { check: false, quiet: true }).stdout === 'yes';

function order(names) {
  const seen = new Set(),
    out = [];
  const visit = (n, trail = []) => {
    if (trail.includes(n)) fail(`dependency cycle: ${[...trail, n].join(' -> ')}`);
    if (seen.has(n)) return;
    if (!services[n]) fail(`unknown service ${n}`);
    for (const d of Object.keys(depsOf(services[n]))) visit(d, [...trail, n]);
    seen.add(n);
    out.push(n);
  };
  for (const n of names) visit(n);
  return out;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Runs the container's health check until it passes; fails if the container stops or time runs out. */
async function waitHealthy(name, timeoutSeconds = Number(process.env.COMPOSE_WAIT_SECONDS ?? 240)) {
  const c = ctr(name);
  if (!hasHealthcheck(name)) fail(`${name} has no health check to wait for`);
  const started = Date.now();
  for (;;) {
    const st = state(c);
    if (st !== 'running') {
      console.error(logsOf(c));
      fail(`${name} is ${st || 'gone'} while waiting for it to be healthy`);
    }
    if (podman(['healthcheck', 'run', c], { check: false, quiet: true }).status === 0) {
      console.log(`compose-podman: ${name} healthy after ${((Date.now() - started) / 1000).toFixed(1)} s`);
      return;
    }
    if (Date.now() - started > timeoutSeconds * 1000) {
      console.error(logsOf(c));
      fail(`${name} not healthy after ${timeoutSeconds} s`);
    }
    await sleep(1000);
  }
}

async function waitCompleted(name) {
  const c = ctr(name);
  for (;;) {
    const st = state(c);
    if (st === 'exited' || st === 'stopped') {
      const code = podman(['inspect', '--format', '{{.State.ExitCode}}', c], { quiet: true }).stdout;
      if (code !== '0') fail(`${name} exited with ${code}`);
      return;
    }
    await sleep(500);
  }
}

async function up(targets, dryRun = false) {
  const names = order(targets.length ? targets : Object.keys(services).filter((n) => active(services[n])));
  const usedNets = new Set(names.flatMap((n) => (services[n].network_mode ? [] : (services[n].networks ?? ['default']))));
  const usedVols = new Set(
    names.flatMap((n) => (services[n].volumes ?? []).map((v) => String(v).split(':')[0]).filter((v) => v in volumes)),
  );
  const cmds = [];
  for (const n of usedNets) {
    const def = networks[n] ?? {};
    const unknown = Object.keys(def).filter((k) => !['internal', 'name', 'driver'].includes(k));
    if (unknown.length) fail(`network ${n}: unsupported key(s) ${unknown.join(', ')}`);
    if (!exists('network', net(n))) cmds.push(['network', 'create', ...labels(), ...(def.internal ? ['--internal'] : []), net(n)]);
  }
  for (const v of usedVols) if (!exists('volume', vol(v))) cmds.push(['volume', 'create', ...labels(), vol(v)]);
  if (dryRun) {
    for (const c of cmds) console.log(`podman ${c.join(' ')}`);
    for (const n of names)
      console.log(
        `podman ${runArgs(n)
          .map((x) => (/[\s"'$]/.test(x) ? `'${x}'` : x))
          .join(' ')}`,
      );
    return;
  }
  for (const c of cmds) podman(c, { quiet: true });
  for (const n of names) {
    for (const [d, { condition = 'service_started' } = {}] of Object.entries(depsOf(services[n]))) {
      if (condition === 'service_healthy') await waitHealthy(d);
      else if (condition === 'service_completed_successfully') await waitCompleted(d);
    }
    const c = ctr(n);
    if (exists('container', c)) {
      if (state(c) === 'running') {
        console.log(`compose-podman: ${n} already running`);
        continue;
      }
      podman(['rm', '-f', c], { quiet: true });
    }
    if (!exists('image', services[n].image)) fail(`image ${services[n].image} for ${n} is not present; build it first`);
    podman(runArgs(n), { quiet: true });
    console.log(`compose-podman: started ${c}`);
    // one-shot services (restart: "no") run to completion; show what they printed
    if (services[n].restart === 'no') {
      await waitCompleted(n);
      process.stdout.write(`${podman(['logs', c], { quiet: true }).stdout}\n`);
    }
  }
}

function projectContainers() {
  const out = podman(['ps', '-a', '--filter', `label=com.docker.compose.project=${project}`, '--format', '{{.Names}}'], {
    quiet: true,
  }).stdout;
  return out ? out.split('\n') : [];
}

function down(removeVolumes) {
  const names = projectContainers();
  if (names.length) podman(['rm', '-f', '-v', '-t', '15', ...names], { check: false, quiet: true });
  const nets = podman(['network', 'ls', '--filter', `label=com.docker.compose.project=${project}`, '--format', '{{.Name}}'], {
    quiet: true,
  }).stdout;
  for (const n of nets ? nets.split('\n') : []) podman(['network', 'rm', '-f', n], { check: false, quiet: true });
  if (removeVolumes) {
    const vols = podman(['volume', 'ls', '--filter', `label=com.docker.compose.project=${project}`, '--format', '{{.Name}}'], {
      quiet: true,
    }).stdout;
    for (const v of vols ? vols.split('\n') : []) podman(['volume', 'rm', '-f', v], { check: false, quiet: true });
  }
  console.log(`compose-podman: removed ${names.length} container(s)${removeVolumes ? ' and the volumes' : ''}`);
}

switch (command) {
  case 'up':
    await up(args.filter((a) => !a.startsWith('-')));
    break;
  case 'config':
    await up(args, true);
    break;
  case 'down':
    down(args.includes('-v') || args.includes('--volumes'));
    break;
  case 'wait':
    for (const n of args) await waitHealthy(n);
    break;
  case 'restart':
    for (const n of args) {
      const grace = durationSeconds(services[n]?.stop_grace_period) ?? 10;
      podman(['restart', '-t', String(Math.ceil(grace)), ctr(n)], { quiet: true });
      console.log(`compose-podman: restarted ${ctr(n)}`);
    }
    for (const n of args) if (hasHealthcheck(n)) await waitHealthy(n);
    break;
  case 'ps':
    console.log(podman(['ps', '-a', '--filter', `label=com.docker.compose.project=${project}`]).stdout);
    break;
  case 'logs':
    console.log(podman(['logs', ctr(args[0])], { quiet: true }).stdout);
    break;
  default:
    fail('usage: compose-podman.mjs [-f file] [-p project] [--profile P] up|down [-v]|restart|wait|ps|logs|config');
}
