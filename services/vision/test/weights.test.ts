// face-api's weight files as installed (the system tier: it reads the models).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadWeights } from '../src/pipeline/weights.js';

test("face-api's shipped weight files decode completely", async () => {
  const rec = await loadWeights('face_recognition_model');
  assert.equal(rec.size, 117);
  assert.deepEqual(rec.get('fc')!.shape, [256, 128]);
  // conv64 filters are stored as raw float32 in the file, the others quantised: both must be finite.
  for (const w of rec.values()) assert.ok(w.data.every(Number.isFinite), w.name);
  const det = await loadWeights('tiny_face_detector_model');
  assert.deepEqual(det.get('conv8/filters')!.shape, [1, 1, 512, 25]);
});
