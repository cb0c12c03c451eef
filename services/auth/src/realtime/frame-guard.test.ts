import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode } from '@faceline/contracts';
import { AuthError } from '../errors.js';
import { FrameGuard, asBytes, looksLikeJpeg } from './frame-guard.js';

const code = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof AuthError);
    return err.code;
  }
  return 'none';
};

test('frames must have increasing sequence numbers and new bytes', () => {
  const g = new FrameGuard();
  const a = Uint8Array.of(0xff, 0xd8, 0xff, 1);
  const b = Uint8Array.of(0xff, 0xd8, 0xff, 2);
  g.commit(5, g.admit(5, a));
  assert.equal(
    code(() => g.admit(5, b)),
    ErrorCode.FRAME_REPLAYED,
  );
  assert.equal(
    code(() => g.admit(4, b)),
    ErrorCode.FRAME_OUT_OF_ORDER,
  );
  assert.equal(
    code(() => g.admit(6, a)),
    ErrorCode.FRAME_REPLAYED,
    'same bytes under a new number',
  );
  // a refused frame changed nothing: 6 with new bytes is still fine
  g.commit(6, g.admit(6, b));
  assert.equal(
    code(() => g.admit(100, Uint8Array.of(0xff, 0xd8, 0xff, 3))),
    'none',
  );
});

test('binary shapes and the JPEG signature', () => {
  assert.equal(looksLikeJpeg(Uint8Array.of(0xff, 0xd8, 0xff, 0xe0)), true);
  assert.equal(looksLikeJpeg(Uint8Array.of(0x89, 0x50, 0x4e, 0x47)), false);
  assert.equal(looksLikeJpeg(Uint8Array.of(0xff)), false);
  assert.ok(asBytes(Buffer.from('x')) instanceof Uint8Array);
  assert.equal(asBytes(new ArrayBuffer(3))?.length, 3);
  assert.equal(asBytes('not bytes'), undefined);
  assert.equal(asBytes({ length: 3 }), undefined);
});
