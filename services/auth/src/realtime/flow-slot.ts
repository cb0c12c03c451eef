/**
 * One running flow (an enrollment or a login) on a connection: the flow, its frame guard
 * (order, replays), its deadline timer, and whether a frame is being analysed. Both flows use
 * the same slot, so starting, admitting frames, timing out and ending work the same way.
 */
import { ErrorCode, FeedbackCode } from '@faceline/contracts';
import { AuthError } from '../errors.js';
import { FrameGuard, asBytes, looksLikeJpeg } from './frame-guard.js';

export interface FrameLimits {
  maxFrameBytes: number;
  minFrameIntervalMs: number;
}

export class FlowSlot<F extends { id: string; expiresAt: number }> {
  private current: { flow: F; guard: FrameGuard; timer: NodeJS.Timeout } | undefined;
  /** a frame of this flow is being analysed */
  busy = false;
  private lastFrameAt = 0;

  constructor(
    readonly name: 'enroll' | 'login',
    private readonly limits: FrameLimits,
  ) {}

  get flow(): F | undefined {
    return this.current?.flow;
  }

  /** Takes a new flow; `onExpire` runs when its time is up (even if no frame arrives). */
  begin(flow: F, onExpire: (flow: F) => void): void {
    if (this.current)
      throw new AuthError(
        ErrorCode.FLOW_ALREADY_RUNNING,
        `a${this.name === 'enroll' ? 'n enrollment' : ' login'} is already running on this connection; cancel it first`,
      );
    const timer = setTimeout(() => onExpire(flow), msUntil(flow.expiresAt));
    this.current = { flow, guard: new FrameGuard(), timer };
  }

  /** Runs `onExpire` again shortly (a frame was being analysed when the time came). */
  retryExpiry(flow: F, onExpire: (flow: F) => void): void {
    if (this.current?.flow !== flow) return;
    this.current.timer = setTimeout(() => onExpire(flow), 50);
  }

  /** Forgets the flow (no effect when `flow` is given and another one runs now). */
  end(flow?: F): F | undefined {
    const c = this.current;
    if (!c || (flow && c.flow !== flow)) return undefined;
    clearTimeout(c.timer);
    this.current = undefined;
    return c.flow;
  }

  /**
   * Checks a frame event before anything changes: shape, size, type, a running flow, one frame
   * at a time, the minimum interval, order and replays. Returns the frame to analyse.
   */
  admit(payload: unknown, frameMeta: (p: unknown) => boolean): { seq: number; image: Uint8Array; flow: F } {
    if (typeof payload !== 'object' || payload === null || !frameMeta(payload)) {
      throw new AuthError(ErrorCode.VALIDATION_FAILED, 'a frame is { seq: non-negative integer, image: JPEG bytes }');
    }
    const image = asBytes((payload as { image?: unknown }).image);
    if (!image || image.byteLength === 0) throw new AuthError(ErrorCode.VALIDATION_FAILED, 'frame.image must be binary JPEG bytes');
    if (image.byteLength > this.limits.maxFrameBytes) {
      throw new AuthError(ErrorCode.PAYLOAD_TOO_LARGE, `frame larger than ${this.limits.maxFrameBytes} bytes`, {
        maxFrameBytes: this.limits.maxFrameBytes,
      });
    }
    if (!looksLikeJpeg(image)) throw new AuthError(ErrorCode.IMAGE_UNSUPPORTED_TYPE, 'frames must be JPEG images');
    const c = this.current;
    if (!c) throw new AuthError(ErrorCode.FLOW_NOT_STARTED, `send ${this.name}:start first`);
    if (this.busy)
      throw new AuthError(ErrorCode.RATE_LIMITED, 'wait for the acknowledgement of the previous frame', {
        feedback: FeedbackCode.SLOW_DOWN,
      });
    const now = Date.now();
    if (now - this.lastFrameAt < this.limits.minFrameIntervalMs) {
      throw new AuthError(ErrorCode.RATE_LIMITED, 'frames arrive too fast', {
        feedback: FeedbackCode.SLOW_DOWN,
        minFrameIntervalMs: this.limits.minFrameIntervalMs,
      });
    }
    const seq = (payload as { seq: number }).seq;
    const hash = c.guard.admit(seq, image);
    c.guard.commit(seq, hash);
    this.lastFrameAt = now;
    return { seq, image, flow: c.flow };
  }
}

function msUntil(at: number): number {
  // a little after the deadline, so that the `Date.now() > expiresAt` checks agree
  return Math.max(0, at - Date.now()) + 5;
}
