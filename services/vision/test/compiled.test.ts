/**
 * System test of the production path: the compiled service (node dist/server.js, no tsx, no
 * source condition) starts its compiled workers and analyses a real photo.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT, requireFaces } from '@faceline/testkit';

test('the compiled service (npm start) serves /v1/analyze from dist/', async (t) => {
  // incremental: a no-op when `npm test` has just built everything
  const build = spawnSync(process.execPath, [path.join(REPO_ROOT, 'node_modules/typescript/bin/tsc'), '-b', 'services/vision'], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
  });
  assert.equal(build.status, 0, build.stdout + build.stderr);

  const proc = spawn(process.execPath, ['dist/server.js'], {
    cwd: path.join(REPO_ROOT, 'services/vision'),
    // NODE_OPTIONS from a tsx-based runner must not leak into the production process
    env: { ...process.env, NODE_OPTIONS: '', PORT: '0', HOST: '127.0.0.1', VISION_WORKERS: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((r) => proc.on('exit', r));
  t.after(async () => {
    if (proc.exitCode === null) proc.kill('SIGKILL');
    await exited;
  });
  let out = '';
  proc.stderr.on('data', (c: Buffer) => (out += c));
  const url = await new Promise<string>((resolve, reject) => {
    proc.stdout.on('data', (c: Buffer) => {
      out += c;
      const m = /"event":"listening","url":"([^"]+)"/.exec(out);
      if (m) resolve(m[1]!);
    });
    void exited.then((code) => reject(new Error(`exited ${code}:\n${out}`)));
  });
  for (let i = 0; ; i++) {
    const r = await fetch(`${url}/readyz`);
    if (r.status === 200) break;
    assert.ok(i < 600, `not ready:\n${out}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const photo = readFileSync(path.join(requireFaces(), 'face_recognition/barack_obama/obama_small.jpg'));
  const res = await fetch(`${url}/v1/analyze`, { method: 'POST', headers: { 'content-type': 'image/jpeg' }, body: photo });
  assert.equal(res.status, 200);
  const body = (await res.json()) as { faces: Array<{ embedding: number[] }> };
  assert.equal(body.faces.length, 1);
  assert.equal(body.faces[0]!.embedding.length, 128);

  proc.kill('SIGTERM');
  assert.equal(await exited, 0);
});
