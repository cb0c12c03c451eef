import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode } from '@faceline/contracts';
import { VisionError } from '../errors.js';
import { checkUpload } from './intake.js';
import { essence, sniffImage } from './sniff.js';

const bytes = (...parts: Array<number[] | string>) =>
  Uint8Array.from(parts.flatMap((p) => (typeof p === 'string' ? [...p].map((c) => c.charCodeAt(0)) : p)));

const JPEG = bytes([0xff, 0xd8, 0xff, 0xe0, 0, 0x10], 'JFIF');
const PNG = bytes([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13], 'IHDR');
const WEBP = bytes('RIFF', [0x24, 0, 0, 0], 'WEBPVP8 ');

test('JPEG, PNG and WebP are recognised from their magic bytes', () => {
  assert.deepEqual(sniffImage(JPEG), { mediaType: 'image/jpeg', supported: true });
  assert.deepEqual(sniffImage(PNG), { mediaType: 'image/png', supported: true });
  assert.deepEqual(sniffImage(WEBP), { mediaType: 'image/webp', supported: true });
});

test('other image and document formats are named but not supported', () => {
  const cases: Array<[Uint8Array, string]> = [
    [bytes('GIF89a', [1, 0, 1, 0]), 'image/gif'],
    [bytes('GIF87a', [1, 0, 1, 0]), 'image/gif'],
    [bytes([0x49, 0x49, 0x2a, 0x00, 8, 0, 0, 0]), 'image/tiff'],
    [bytes([0x4d, 0x4d, 0x00, 0x2a, 0, 0, 0, 8]), 'image/tiff'],
    [bytes('BM', [0x36, 0, 0, 0, 0, 0, 0, 0, 0x36, 0, 0, 0]), 'image/bmp'],
    [bytes('%PDF-1.7\n'), 'application/pdf'],
    [bytes('<svg xmlns="http://www.w3.org/2000/svg"></svg>'), 'image/svg+xml'],
    [bytes([0xef, 0xbb, 0xbf], '<?xml version="1.0"?>\n<!-- x -->\n<svg width="1">'), 'image/svg+xml'],
    [bytes([0, 0, 0, 0x1c], 'ftypheic', [0, 0, 0, 0]), 'image/heif'],
    [bytes([0, 0, 0, 0x1c], 'ftypavif', [0, 0, 0, 0]), 'image/heif'],
  ];
  for (const [b, type] of cases) assert.deepEqual(sniffImage(b), { mediaType: type, supported: false }, type);
});

test('random bytes, text and short prefixes are not images', () => {
  for (const b of [bytes('hello'), bytes([0xff, 0xd8]), bytes('RIFF', [0, 0, 0, 0], 'WAVE'), new Uint8Array(0), bytes('{"a":1}')]) {
    assert.deepEqual(sniffImage(b), { mediaType: undefined, supported: false });
  }
});

test('essence() drops parameters and case', () => {
  assert.equal(essence('Image/JPEG; charset=binary'), 'image/jpeg');
  assert.equal(essence(''), undefined);
  assert.equal(essence(undefined), undefined);
});

const code = (c: string) => (e: unknown) => e instanceof VisionError && e.code === c;

test('checkUpload trusts the bytes, not the label', () => {
  assert.equal(checkUpload(JPEG, 'image/jpeg'), 'image/jpeg');
  assert.equal(checkUpload(PNG, 'application/octet-stream'), 'image/png');
  assert.equal(checkUpload(WEBP, undefined), 'image/webp');
  assert.throws(() => checkUpload(new Uint8Array(0), 'image/jpeg'), code(ErrorCode.IMAGE_EMPTY));
  // a PNG labelled image/jpeg (saved as .jpg) is decoded as what it is
  assert.equal(checkUpload(PNG, 'image/jpeg'), 'image/png');
  assert.throws(
    () => checkUpload(bytes('GIF89a', [1, 0]), 'image/jpeg'),
    (e) => code(ErrorCode.IMAGE_UNSUPPORTED_TYPE)(e) && (e as VisionError).statusCode === 415,
  );
  assert.throws(() => checkUpload(bytes('not an image'), 'application/octet-stream'), code(ErrorCode.IMAGE_UNSUPPORTED_TYPE));
  assert.throws(() => checkUpload(JPEG, 'text/plain'), code(ErrorCode.IMAGE_UNSUPPORTED_TYPE));
});
