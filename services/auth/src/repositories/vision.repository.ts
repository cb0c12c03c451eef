/**
 * The vision service over HTTP. Several addresses may be configured: a call starts at the next
 * address in turn (spreading load), and moves on to another one on a connection error, a timeout
 * or a 503; only when none answers does the caller get RECOGNITION_UNAVAILABLE. Node's fetch
 * (undici) keeps connections alive between calls.
 */
import { ErrorCode, type AnalyzeResponse } from '@faceline/contracts';
import { AuthError } from '../errors.js';

export interface AnalyzeOptions {
  maxFaces?: number;
  minFaceSize?: number;
  embeddings?: boolean;
}

export interface VisionClient {
  analyze(image: Uint8Array, opts?: AnalyzeOptions): Promise<AnalyzeResponse>;
  /** true when at least one address answers its readiness probe */
  ready(): Promise<boolean>;
}

export interface VisionObserver {
  (outcome: { url: string; ms: number; ok: boolean; status?: number }): void;
}

export class HttpVisionClient implements VisionClient {
  private next = 0;
  constructor(
    private readonly urls: string[],
    private readonly timeoutMs: number,
    private readonly observe: VisionObserver = () => undefined,
  ) {
    if (urls.length === 0) throw new Error('no vision address');
  }

  private order(): string[] {
    const start = this.next++ % this.urls.length;
    return [...this.urls.slice(start), ...this.urls.slice(0, start)];
  }

  async analyze(image: Uint8Array, opts: AnalyzeOptions = {}): Promise<AnalyzeResponse> {
    const qs = new URLSearchParams({
      maxFaces: String(opts.maxFaces ?? 5),
      minFaceSize: String(opts.minFaceSize ?? 40),
      embeddings: String(opts.embeddings ?? true),
    });
    let lastProblem = 'no address tried';
    for (const url of this.order()) {
      const started = performance.now();
      let res: Response;
      try {
        res = await fetch(`${url}/v1/analyze?${qs}`, {
          method: 'POST',
          headers: { 'content-type': 'image/jpeg', accept: 'application/json' },
          body: image,
          signal: AbortSignal.timeout(this.timeoutMs),
        });
      } catch (err) {
        // connection refused/reset or timeout: this replica may be gone, try the next one
        this.observe({ url, ms: performance.now() - started, ok: false });
        lastProblem = `${url}: ${(err as Error).name === 'TimeoutError' ? 'timeout' : (err as Error).message}`;
        continue;
      }
      this.observe({ url, ms: performance.now() - started, ok: res.ok, status: res.status });
      if (res.ok) return (await res.json()) as AnalyzeResponse;
      const body = (await res.json().catch(() => undefined)) as { error?: { code?: string; message?: string } } | undefined;
      if (res.status === 503 || res.status === 502 || res.status === 504) {
        lastProblem = `${url}: ${res.status} ${body?.error?.code ?? ''}`;
        continue;
      }
      // The image itself was refused (corrupt, unsupported, too large): another replica would refuse it too.
      const code = body?.error?.code;
      if (code === ErrorCode.IMAGE_CORRUPT || code === ErrorCode.IMAGE_UNSUPPORTED_TYPE || code === ErrorCode.IMAGE_EMPTY || code === ErrorCode.IMAGE_TOO_SMALL) {
        throw new AuthError(code, 'the frame is not a readable JPEG image');
      }
      if (res.status === 413 || code === ErrorCode.IMAGE_TOO_MANY_PIXELS || code === ErrorCode.PAYLOAD_TOO_LARGE) {
        throw new AuthError(ErrorCode.PAYLOAD_TOO_LARGE, 'the frame is too large; send a smaller image');
      }
      lastProblem = `${url}: ${res.status} ${code ?? ''}`;
    }
    throw new AuthError(ErrorCode.RECOGNITION_UNAVAILABLE, 'face recognition is temporarily unavailable; please try again', undefined, {
      cause: new Error(lastProblem),
    });
  }

  async ready(): Promise<boolean> {
    for (const url of this.urls) {
      try {
        const res = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(Math.min(this.timeoutMs, 2000)) });
        await res.body?.cancel();
        if (res.ok) return true;
      } catch {
        // try the next one
      }
    }
    return false;
  }
}
