/**
 * The attack harness (bench/attack) as a test: every attack class, 20 tries each, against the
 * real services with the default liveness and limits. Each class must have 0 successes. The
 * figures (how each try ended) are printed; `npm run attack` writes them to docs/attack-report.md.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { requireFaces } from '@faceline/testkit';
import { runAttacks } from '../../bench/attack/harness.js';

test('no attack class gets a single login in 20 tries', { timeout: 1_200_000 }, async (t) => {
  requireFaces();
  const results = await runAttacks({ tries: 20, concurrency: 4, log: (line) => t.diagnostic(line) });
  assert.ok(results.length >= 11, `every class ran (${results.length})`);
  for (const r of results) {
    assert.equal(r.tries, 20, `${r.name}: tries`);
    assert.equal(r.successes, 0, `${r.name}: ${r.successes} of ${r.tries} tries succeeded (${JSON.stringify(r.outcomes)})`);
  }
});
