/**
 * Tells an image's type from its first bytes. The Content-Type header is the caller's claim;
 * the magic bytes decide what is decoded, so a GIF, SVG or PDF labelled image/jpeg never reaches
 * the decoder (libvips would happily open many formats vision does not accept).
 */
import { IMAGE_MEDIA_TYPES } from '@faceline/contracts';

export type ImageMediaType = (typeof IMAGE_MEDIA_TYPES)[number];

export interface Sniffed {
  /** media type recognised from the bytes, or undefined when nothing known matched */
  mediaType: string | undefined;
  /** true when vision decodes this type */
  supported: boolean;
}

const startsWith = (b: Uint8Array, sig: readonly number[], at = 0) => b.length >= at + sig.length && sig.every((v, i) => b[at + i] === v);
const ascii = (b: Uint8Array, from: number, to: number) => String.fromCharCode(...b.subarray(from, to));

/** Formats recognised only to name them in the 415 answer. */
const UNSUPPORTED: Array<[string, (b: Uint8Array) => boolean]> = [
  ['image/gif', (b) => ascii(b, 0, 6) === 'GIF87a' || ascii(b, 0, 6) === 'GIF89a'],
  ['image/tiff', (b) => startsWith(b, [0x49, 0x49, 0x2a, 0x00]) || startsWith(b, [0x4d, 0x4d, 0x00, 0x2a])],
  ['image/bmp', (b) => ascii(b, 0, 2) === 'BM' && b.length >= 14],
  ['application/pdf', (b) => ascii(b, 0, 5) === '%PDF-'],
  ['image/vnd.microsoft.icon', (b) => startsWith(b, [0x00, 0x00, 0x01, 0x00])],
  ['image/jxl', (b) => startsWith(b, [0xff, 0x0a]) || startsWith(b, [0, 0, 0, 0x0c, 0x4a, 0x58, 0x4c, 0x20])],
  ['image/jp2', (b) => startsWith(b, [0, 0, 0, 0x0c, 0x6a, 0x50, 0x20, 0x20])],
  ['image/heif', (b) => ascii(b, 4, 8) === 'ftyp' && /^(heic|heix|hevc|heim|heis|mif1|msf1|avif|avis)$/.test(ascii(b, 8, 12))],
  ['image/svg+xml', (b) => /^\s*(<\?xml[^>]*>\s*)?(<!--[\s\S]*?-->\s*)*(<!DOCTYPE svg[^>]*>\s*)?<svg[\s>]/i.test(textHead(b))],
];

function textHead(b: Uint8Array): string {
  let s = new TextDecoder('utf-8', { fatal: false }).decode(b.subarray(0, 1024));
  if (s.charCodeAt(0) === 0xfeff) s = s.slice(1);
  return s;
}

export function sniffImage(bytes: Uint8Array): Sniffed {
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return { mediaType: 'image/jpeg', supported: true };
  if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return { mediaType: 'image/png', supported: true };
  if (ascii(bytes, 0, 4) === 'RIFF' && ascii(bytes, 8, 12) === 'WEBP') return { mediaType: 'image/webp', supported: true };
  for (const [mediaType, test] of UNSUPPORTED) if (test(bytes)) return { mediaType, supported: false };
  return { mediaType: undefined, supported: false };
}

export function isImageMediaType(t: string): t is ImageMediaType {
  return (IMAGE_MEDIA_TYPES as readonly string[]).includes(t);
}

/** "image/JPEG; charset=x" -> "image/jpeg" */
export function essence(contentType: string | undefined): string | undefined {
  const t = contentType?.split(';')[0]?.trim().toLowerCase();
  return t || undefined;
}
