/**
 * Camera frames to JPEG, sent one at a time: the next frame is captured only after the
 * server acknowledged the previous one and the minimum interval has passed. So a slow
 * server slows the client down instead of piling up frames.
 */
import type { FrameMessage } from '@faceline/contracts';

export const JPEG_QUALITY = 0.8;

/** Output size: at most targetWidth wide (never upscaled), aspect ratio kept, even numbers. */
export function frameSize(videoWidth: number, videoHeight: number, targetWidth: number): { width: number; height: number } {
  if (videoWidth <= 0 || videoHeight <= 0) return { width: 0, height: 0 };
  const scale = Math.min(1, targetWidth / videoWidth);
  const even = (n: number) => Math.max(2, Math.round(n / 2) * 2);
  return { width: even(videoWidth * scale), height: even(videoHeight * scale) };
}

/** How long to wait before capturing the next frame. */
export function delayBeforeNext(elapsedMs: number, minIntervalMs: number): number {
  return Math.max(0, minIntervalMs - elapsedMs);
}

/** Strictly increasing sequence numbers; starting from the clock makes a restarted flow never reuse one. */
export function createSequence(start = Date.now() % 1_000_000_000): () => number {
  let seq = Math.max(0, Math.floor(start));
  return () => seq++;
}

export interface FramePumpOptions {
  video: HTMLVideoElement;
  targetWidth: number;
  minIntervalMs: number;
  maxBytes: number;
  /** resolves when the server has acknowledged the frame */
  send: (frame: FrameMessage) => Promise<void>;
  onError: (err: unknown) => void;
}

export class FramePump {
  private running = false;
  private readonly canvas = document.createElement('canvas');
  private readonly next = createSequence();
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly opts: FramePumpOptions) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    void this.loop();
  }

  stop(): void {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
  }

  get isRunning(): boolean {
    return this.running;
  }

  private async capture(quality: number): Promise<Blob | null> {
    const { video, targetWidth } = this.opts;
    const { width, height } = frameSize(video.videoWidth, video.videoHeight, targetWidth);
    if (!width) return null;
    this.canvas.width = width;
    this.canvas.height = height;
    const ctx = this.canvas.getContext('2d');
    if (!ctx) return null;
    ctx.drawImage(video, 0, 0, width, height);
    return new Promise((resolve) => this.canvas.toBlob(resolve, 'image/jpeg', quality));
  }

  private async loop(): Promise<void> {
    while (this.running) {
      const started = performance.now();
      try {
        let blob = await this.capture(JPEG_QUALITY);
        if (blob && blob.size > this.opts.maxBytes) blob = await this.capture(0.6);
        if (blob && this.running) {
          const image = new Uint8Array(await blob.arrayBuffer());
          await this.opts.send({ seq: this.next(), image, capturedAt: Date.now() });
        }
      } catch (err) {
        this.running = false;
        this.opts.onError(err);
        return;
      }
      if (!this.running) return;
      await new Promise<void>((resolve) => {
        this.timer = setTimeout(resolve, delayBeforeNext(performance.now() - started, this.opts.minIntervalMs));
      });
    }
  }
}
