/**
 * Per-flow frame admission: sequence numbers must strictly increase and a frame's bytes may
 * not repeat. A real camera never produces two identical JPEGs, so an identical one is a
 * replay. Checks happen before anything changes; `commit` records an admitted frame.
 */
import { createHash } from 'node:crypto';
import { ErrorCode } from '@faceline/contracts';
import { AuthError } from '../errors.js';

/** Enough to cover any flow (flows end after LOGIN_MAX_FRAMES / enrollment time limit). */
const MAX_REMEMBERED = 2048;

export class FrameGuard {
  private lastSeq = -1;
  private seen = new Set<string>();

  admit(seq: number, image: Uint8Array): string {
    if (seq === this.lastSeq) throw new AuthError(ErrorCode.FRAME_REPLAYED, `frame ${seq} was already received`);
    if (seq < this.lastSeq) throw new AuthError(ErrorCode.FRAME_OUT_OF_ORDER, `frame ${seq} arrived after frame ${this.lastSeq}`);
    const hash = createHash('sha256').update(image).digest('base64url');
    if (this.seen.has(hash)) throw new AuthError(ErrorCode.FRAME_REPLAYED, 'this exact image was already sent in this flow');
    return hash;
  }

  commit(seq: number, hash: string): void {
    this.lastSeq = seq;
    if (this.seen.size >= MAX_REMEMBERED) this.seen.delete(this.seen.values().next().value as string);
    this.seen.add(hash);
  }
}

/** JPEG starts with SOI + a marker. Anything else is refused before it reaches vision. */
export function looksLikeJpeg(b: Uint8Array): boolean {
  return b.length >= 4 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff;
}

/** Socket.IO delivers binary as Buffer on Node; accept the other binary shapes a client may send. */
export function asBytes(v: unknown): Uint8Array | undefined {
  if (v instanceof Uint8Array) return v;
  if (v instanceof ArrayBuffer) return new Uint8Array(v);
  if (ArrayBuffer.isView(v)) return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  return undefined;
}
