/**
 * The short plant run (`bench/sites/run.ts --quick`, under 2 minutes) as a system test: a hub and
 * two sites, each with its own PostgreSQL 15, vision and auth in its own network namespace (or on
 * its own loopback address without root), the sites behind uplink relays that cut and delay.
 * Only the functional checks are asserted: site A keeps logging people in while cut off, its
 * enrollment attempts get HUB_UNAVAILABLE, nothing it recorded is lost or doubled at the hub, the
 * hub's slot survives, replication recovers both ways, people enrolled and deleted at the hub are
 * known and refused at both sites, logins work at every WAN delay, and a site past its staleness
 * limit answers SITE_STALE. Latencies are printed by the harness and never asserted.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { REPO_ROOT, requireFaces } from '@faceline/testkit';

interface Check {
  phase: string;
  name: string;
  ok: boolean;
  detail: string;
}

/** Every check the quick run must report. */
const EXPECTED: { phase: string; name: RegExp }[] = [
  { phase: 'cut', name: /site A logs everyone in/ },
  { phase: 'cut', name: /site B is not affected/ },
  { phase: 'cut', name: /the cut isolates site A/ },
  { phase: 'cut', name: /HUB_UNAVAILABLE/ },
  { phase: 'after', name: /every audit event .* reached the hub, once/ },
  { phase: 'after', name: /every session .* reached the hub, once/ },
  { phase: 'after', name: /replication slot/ },
  { phase: 'after', name: /caught up in both directions/ },
  { phase: 'after', name: /half-written/ },
  { phase: 'lag', name: /enrolled at the hub logs in at both sites/ },
  { phase: 'lag', name: /kiosk/ },
  { phase: 'deletion', name: /deleted at the hub is refused/ },
  { phase: 'wan', name: /every WAN delay/ },
  { phase: 'stale', name: /SITE_STALE/ },
];

describe('plant network: a hub and two sites, uplink cut, WAN delay, staleness', { timeout: 300_000 }, () => {
  let checks: Check[] = [];
  let output = '';
  let exitCode: number | null = null;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'faceline-sites-test-'));

  before(async () => {
    requireFaces();
    const json = path.join(dir, 'result.json');
    exitCode = await new Promise<number | null>((resolve) => {
      const child = spawn(
        process.execPath,
        ['--conditions=source', '--import', 'tsx', 'bench/sites/run.ts', '--quick', '--no-report', '--json', json],
        { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      child.stdout.on('data', (d: Buffer) => (output += d.toString()));
      child.stderr.on('data', (d: Buffer) => (output += d.toString()));
      // SIGINT lets the harness stop its processes and remove its namespaces
      const timer = setTimeout(() => child.kill('SIGINT'), 240_000);
      child.on('exit', (code) => {
        clearTimeout(timer);
        resolve(code);
      });
    });
    try {
      checks = (JSON.parse(readFileSync(json, 'utf8')) as { checks: Check[] }).checks ?? [];
    } catch {
      checks = [];
    }
  });

  after(() => rmSync(dir, { recursive: true, force: true }));

  it('runs to the end and reports every check', () => {
    assert.ok(checks.length > 0, `the harness produced no result (exit ${exitCode}):\n${output.slice(-4000)}`);
    for (const { phase, name } of EXPECTED) {
      assert.ok(
        checks.some((c) => c.phase === phase && name.test(c.name)),
        `missing check ${phase}: ${name}\n${output.slice(-2000)}`,
      );
    }
    assert.equal(exitCode, checks.every((c) => c.ok) ? 0 : 1);
  });

  for (const { phase, name } of EXPECTED) {
    it(`${phase}: ${name.source}`, () => {
      const c = checks.find((x) => x.phase === phase && name.test(x.name));
      assert.ok(c, 'no such check in the run');
      assert.ok(c.ok, `${c.name}: ${c.detail}`);
    });
  }
});
