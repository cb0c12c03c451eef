import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { boxOnScreen } from './overlay.js';

const close = (
  a: { x: number; y: number; width: number; height: number } | null,
  b: { x: number; y: number; width: number; height: number },
) => {
  assert.ok(a, 'a box is drawn');
  const drawn = a;
  for (const k of ['x', 'y', 'width', 'height'] as const) assert.ok(Math.abs(drawn[k] - b[k]) < 1e-6, `${k}: ${drawn[k]} vs ${b[k]}`);
};

describe('face box on the preview', () => {
  it('scales frame pixels to the overlay when the aspect ratios agree', () => {
    close(boxOnScreen({ box: { x: 320, y: 120, width: 160, height: 200 }, frameSize: { width: 640, height: 480 } }, 400, 300), {
      x: 200,
      y: 75,
      width: 100,
      height: 125,
    });
  });

  it('follows object-fit: cover when the stage crops the video (portrait phone, landscape camera)', () => {
    // 640x480 shown in 300x400: scaled by 400/480, 116.67 px cut off on each side
    const s = 400 / 480;
    const off = (300 - 640 * s) / 2;
    close(boxOnScreen({ box: { x: 270, y: 190, width: 100, height: 100 }, frameSize: { width: 640, height: 480 } }, 300, 400), {
      x: off + 270 * s,
      y: 190 * s,
      width: 100 * s,
      height: 100 * s,
    });
    // a centred face stays centred
    const c = boxOnScreen({ box: { x: 270, y: 190, width: 100, height: 100 }, frameSize: { width: 640, height: 480 } }, 300, 400)!;
    assert.ok(Math.abs(c.x + c.width / 2 - 150) < 1e-6);
  });

  it('draws nothing without a box or with a meaningless frame size', () => {
    assert.equal(boxOnScreen(undefined, 400, 300), null);
    assert.equal(boxOnScreen({}, 400, 300), null);
    assert.equal(boxOnScreen({ box: { x: 0, y: 0, width: 10, height: 10 }, frameSize: { width: 0, height: 480 } }, 400, 300), null);
  });
});
