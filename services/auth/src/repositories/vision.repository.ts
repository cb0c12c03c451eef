/**
 * The vision service over HTTP. Each configured host is resolved into its addresses (see
 * vision-endpoints.ts); a call goes to the address with the fewest calls in flight, and moves on
 * to another one on a connection error, a timeout or a 503; only when none answers does the
 * caller get RECOGNITION_UNAVAILABLE. Node's fetch (undici) keeps connections alive between calls.
 */
import { ErrorCode, type AnalyzeResponse } from '@faceline/contracts';
import { AuthError } from '../errors.js';
import { VisionEndpoints, type EndpointOptions, type Endpoint } from './vision-endpoints.js';

export interface AnalyzeOptions {
  maxFaces?: number;
  minFaceSize?: number;
  embeddings?: boolean;
  /** the landmark-normalised face texture (liveness) */
  texture?: boolean;
}

export interface VisionClient {
  analyze(image: Uint8Array, opts?: AnalyzeOptions): Promise<AnalyzeResponse>;
  /** true when at least one address answers its readiness probe */
  ready(): Promise<boolean>;
  /** stops background work (address refresh); the client is not used afterwards */
  close?(): void;
}

export interface VisionObserver {
  (outcome: { url: string; ms: number; ok: boolean; status?: number }): void;
}

export class HttpVisionClient implements VisionClient {
  readonly endpoints: VisionEndpoints;
  constructor(
    urls: string[],
    private readonly timeoutMs: number,
    private readonly observe: VisionObserver = () => undefined,
    endpointOptions: EndpointOptions = {},
  ) {
    this.endpoints = new VisionEndpoints(urls, endpointOptions);
  }

  /** stops the periodic name resolution */
  close(): void {
    this.endpoints.close();
  }

  async analyze(image: Uint8Array, opts: AnalyzeOptions = {}): Promise<AnalyzeResponse> {
    const qs = new URLSearchParams({
      maxFaces: String(opts.maxFaces ?? 5),
      minFaceSize: String(opts.minFaceSize ?? 40),
      embeddings: String(opts.embeddings ?? true),
    });
    if (opts.texture) qs.set('texture', 'true');
    await this.endpoints.ready();
    let lastProblem = 'no address tried';
    const tried = new Set<Endpoint>();
    for (let ep = this.endpoints.pick(tried); ep; ep = this.endpoints.pick(tried)) {
      tried.add(ep);
      const url = ep.url;
      const started = performance.now();
      let res: Response;
      let body: { error?: { code?: string; message?: string } } | undefined;
      // counted until the body is read: the replica is busy until then
      ep.inFlight++;
      try {
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
        body = (await res.json().catch(() => undefined)) as typeof body;
      } finally {
        ep.inFlight--;
      }
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
    await this.endpoints.ready();
    for (const { url } of this.endpoints.endpoints()) {
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
