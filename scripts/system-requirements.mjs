// The system commands the system tests start (browser, load-balancer, PostgreSQL server, openssl),
// checked before any test runs so a missing one stops `npm test` at once instead of failing
// midway with ENOENT. scripts/system-deps.sh installs the same list.
import { accessSync, constants } from 'node:fs';
import path from 'node:path';

/** PostgreSQL server binaries the private instances are started from (as bench/load/postgres.ts finds them). */
const PG_BIN_CANDIDATES = ['/usr/lib/postgresql/15/bin', '/usr/lib/postgresql/16/bin', '/usr/lib/postgresql/17/bin'];

/** @param {string} file */
function executable(file) {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** @param {string} command */
function onPath(command) {
  return (process.env.PATH ?? '').split(path.delimiter).some((dir) => dir && executable(path.join(dir, command)));
}

/** @param {string} dir */
function hasPgServer(dir) {
  return executable(path.join(dir, 'initdb')) && executable(path.join(dir, 'pg_ctl'));
}

/**
 * What is missing, each with the Debian package that provides it.
 * @param {NodeJS.ProcessEnv} env
 * @returns {{ what: string, pkg: string }[]}
 */
export function missingSystemCommands(env = process.env) {
  const checks = [
    // test/e2e/support/browser.ts
    { what: 'chromium', pkg: 'chromium', ok: () => executable(env.CHROMIUM_PATH ?? '/usr/bin/chromium') },
    // test/load, bench/load: HAProxy in front of the replicas
    { what: 'haproxy', pkg: 'haproxy', ok: () => onPath('haproxy') },
    { what: 'pg_isready', pkg: 'postgresql-client', ok: () => onPath('pg_isready') },
    // database-outage, load and site tests start private PostgreSQL servers
    {
      what: 'initdb and pg_ctl under /usr/lib/postgresql/*/bin',
      pkg: 'postgresql',
      ok: () => (env.FACELINE_PG_BIN ? hasPgServer(env.FACELINE_PG_BIN) : PG_BIN_CANDIDATES.some(hasPgServer)),
    },
    // services/web/test/tls.test.ts makes a throw-away certificate
    { what: 'openssl', pkg: 'openssl', ok: () => onPath('openssl') },
  ];
  return checks.filter((c) => !c.ok()).map(({ what, pkg }) => ({ what, pkg }));
}
