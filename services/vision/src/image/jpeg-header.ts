/**
 * Width and height from a JPEG's frame header (SOFn), read without decoding: enough for the
 * decoder to skip a separate metadata pass for an ordinary webcam frame. Returns undefined for
 * anything it does not understand; the caller then asks libvips.
 */
export function jpegSize(bytes: Uint8Array): { width: number; height: number } | undefined {
  if (bytes.length < 4 || bytes[0] !== 0xff || bytes[1] !== 0xd8) return undefined;
  let p = 2;
  while (p + 4 <= bytes.length) {
    if (bytes[p] !== 0xff) return undefined;
    const marker = bytes[p + 1]!;
    if (marker === 0xff) {
      p++; // fill byte
      continue;
    }
    // markers without a length: TEM and RST0..7 (and SOI again, which is malformed anyway)
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd8)) {
      p += 2;
      continue;
    }
    // start of scan or end of image before any frame header: give up
    if (marker === 0xda || marker === 0xd9) return undefined;
    const length = (bytes[p + 2]! << 8) | bytes[p + 3]!;
    if (length < 2) return undefined;
    // SOF0..15 except DHT (C4), JPG (C8) and DAC (CC)
    const isFrame = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isFrame) {
      if (length < 7 || p + 9 > bytes.length) return undefined;
      const height = (bytes[p + 5]! << 8) | bytes[p + 6]!;
      const width = (bytes[p + 7]! << 8) | bytes[p + 8]!;
      return width > 0 && height > 0 ? { width, height } : undefined;
    }
    p += 2 + length;
  }
  return undefined;
}
