/**
 * Draws the guide over the (mirrored) camera preview: the face box the server detected on
 * the latest frame (or, before there is one, a guide frame) whose colour says whether the
 * last frame was good, and arrows for head turns. The words are in a live
 * region next to it, so screen readers hear the same hint.
 */
import type { ChallengeStep, FaceLocation, FeedbackCode } from '@faceline/contracts';

export type Tone = 'neutral' | 'good' | 'warn' | 'done';

const COLORS: Record<Tone, string> = { neutral: '#ffffff', good: '#3ddc84', warn: '#ffb020', done: '#3ddc84' };

const GOOD: ReadonlySet<FeedbackCode> = new Set(['GOOD', 'CAPTURED', 'STEP_DONE']);

export function toneFor(feedback: readonly FeedbackCode[]): Tone {
  const first = feedback[0];
  if (!first) return 'neutral';
  if (first === 'CAPTURED' || first === 'STEP_DONE') return 'done';
  return GOOD.has(first) ? 'good' : first === 'SLOW_DOWN' ? 'neutral' : 'warn';
}

/** Which arrow to draw, in screen terms for a mirrored preview (the person's left is the screen's left). */
export function arrowFor(hint: FeedbackCode | ChallengeStep | undefined): 'left' | 'right' | null {
  if (hint === 'TURN_LEFT') return 'left';
  if (hint === 'TURN_RIGHT') return 'right';
  return null;
}

export interface ScreenBox {
  x: number;
  y: number;
  width: number;
  height: number;
}

/**
 * The server's face box (pixels of the frame as sent) on an overlay of `width` x `height`
 * that covers the video element. The preview uses `object-fit: cover`: the frame is scaled
 * to fill the stage and centred, the overflow cut off. The canvas is mirrored like the
 * video, so frame coordinates need no flipping here.
 */
export function boxOnScreen(face: FaceLocation | undefined, width: number, height: number): ScreenBox | null {
  const box = face?.box;
  const frame = face?.frameSize;
  if (!box || !frame || frame.width <= 0 || frame.height <= 0 || width <= 0 || height <= 0) return null;
  const scale = Math.max(width / frame.width, height / frame.height);
  const ox = (width - frame.width * scale) / 2;
  const oy = (height - frame.height * scale) / 2;
  return { x: ox + box.x * scale, y: oy + box.y * scale, width: box.width * scale, height: box.height * scale };
}

export function drawOverlay(
  canvas: HTMLCanvasElement,
  opts: { tone: Tone; arrow: 'left' | 'right' | null; progress?: number; face?: FaceLocation },
): void {
  const rect = canvas.getBoundingClientRect();
  const dpr = window.devicePixelRatio || 1;
  const w = Math.max(1, Math.round(rect.width * dpr));
  const hgt = Math.max(1, Math.round(rect.height * dpr));
  if (canvas.width !== w || canvas.height !== hgt) {
    canvas.width = w;
    canvas.height = hgt;
  }
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  ctx.clearRect(0, 0, w, hgt);

  // The face where the server found it (its box, as detected); without one, a guide ellipse
  // about the size of a face at arm's length.
  const found = boxOnScreen(opts.face, w, hgt);
  const cx = found ? found.x + found.width / 2 : w / 2;
  const cy = found ? found.y + found.height / 2 : hgt / 2;
  const rx = found ? found.width / 2 : Math.min(w, hgt) * 0.28;
  const ry = found ? found.height / 2 : rx * 1.3;
  const radius = Math.min(rx, ry) * 0.25;
  const outline = (grow: number) => {
    ctx.beginPath();
    if (found) ctx.roundRect(found.x - grow, found.y - grow, found.width + 2 * grow, found.height + 2 * grow, radius + grow);
    else ctx.ellipse(cx, cy, rx + grow, ry + grow, 0, 0, Math.PI * 2);
  };
  ctx.save();
  ctx.fillStyle = 'rgba(0,0,0,0.35)';
  outline(0);
  ctx.rect(0, 0, w, hgt);
  ctx.fill('evenodd');
  ctx.restore();

  ctx.lineWidth = Math.max(3, 5 * dpr);
  ctx.strokeStyle = COLORS[opts.tone];
  ctx.setLineDash(opts.tone === 'neutral' ? [12 * dpr, 10 * dpr] : []);
  outline(0);
  ctx.stroke();
  ctx.setLineDash([]);

  if (opts.progress !== undefined && opts.progress > 0) {
    const p = Math.min(1, opts.progress);
    ctx.strokeStyle = COLORS.done;
    ctx.lineWidth = Math.max(6, 9 * dpr);
    ctx.beginPath();
    if (found) {
      // a bar under the box fills up with the captures
      const y = Math.min(hgt - ctx.lineWidth, found.y + found.height + 14 * dpr);
      ctx.moveTo(found.x, y);
      ctx.lineTo(found.x + found.width * p, y);
    } else ctx.ellipse(cx, cy, rx + 12 * dpr, ry + 12 * dpr, -Math.PI / 2, 0, Math.PI * 2 * p);
    ctx.stroke();
  }

  if (opts.arrow) {
    const dir = opts.arrow === 'left' ? -1 : 1;
    const ax = cx + dir * (rx + Math.min(w * 0.12, 60 * dpr));
    const size = Math.min(w, hgt) * 0.09;
    ctx.fillStyle = COLORS.warn;
    ctx.beginPath();
    ctx.moveTo(ax + dir * size, cy);
    ctx.lineTo(ax - dir * size * 0.2, cy - size);
    ctx.lineTo(ax - dir * size * 0.2, cy + size);
    ctx.closePath();
    ctx.fill();
  }
}
