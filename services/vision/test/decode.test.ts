// Decoding a real photo of the shared face set (the system tier: it needs the face set).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { requireFaces } from '@faceline/testkit';
import { decodeImage } from '../src/image/decode.js';

const limits = { maxPixels: 40_000_000, maxSide: 1920 };

test('EXIF orientation is applied: the sideways-stored photo decodes upright', async () => {
  const file = path.join(requireFaces(), 'silent-face-anti-spoofing/anon_silentface_red/image_T1.jpg');
  const d = await decodeImage(readFileSync(file), 'image/jpeg', limits);
  assert.deepEqual([d.width, d.height, d.rgb.width, d.rgb.height], [480, 640, 480, 640]);
  assert.equal(d.rgb.data.length, 480 * 640 * 3);
});
