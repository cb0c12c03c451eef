/**
 * The vision service over HTTP. Each configured host is resolved into its addresses (see
 * vision-endpoints.ts); a call goes to the address with the fewest calls in flight, and moves on
 * to another one on a connection error, a timeout or a 503; only when none answers does the
 * caller get RECOGNITION_UNAVAILABLE.
 *
 * Frames go out through node:http with a keep-alive agent, as one write of headers and body
 * (the body's length is known): fetch streamed the same body through WHATWG streams in several
 * writes, which cost about a millisecond of CPU per frame here, mostly in system calls.
 */
import http from 'node:http';
import https from 'node:https';
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

export type VisionObserver = (outcome: { url: string; ms: number; ok: boolean; status?: number }) => void;

interface Answer {
  status: number;
  body: Buffer;
}

class PostError extends Error {}

// One pool of kept-alive connections per protocol. An idle connection is closed after 4 s (as
// undici does), well before servers and balancers drop theirs, so a frame rarely meets a
// connection the other side has just closed; when it does, it is sent once more on a new one.
const agents = {
  'http:': new http.Agent({ keepAlive: true, timeout: 4000, scheduling: 'lifo' }),
  'https:': new https.Agent({ keepAlive: true, timeout: 4000, scheduling: 'lifo' }),
};

/**
 * POST `body` and read the whole answer within `timeoutMs`. Rejects with a PostError on a
 * connection problem or the timeout; `onHeaders` runs when the status line arrives.
 */
async function post(
  url: URL,
  body: Uint8Array,
  headers: Record<string, string>,
  timeoutMs: number,
  onHeaders: (status: number) => void,
): Promise<Answer> {
  const deadline = performance.now() + timeoutMs;
  try {
    return await postOnce(url, body, headers, timeoutMs, onHeaders);
  } catch (e) {
    if (!(e instanceof StaleConnection)) throw e;
    return postOnce(url, body, headers, Math.max(1, deadline - performance.now()), onHeaders);
  }
}

/** A kept-alive connection that turned out to be closed before anything came back. */
class StaleConnection extends PostError {}

function postOnce(
  url: URL,
  body: Uint8Array,
  headers: Record<string, string>,
  timeoutMs: number,
  onHeaders: (status: number) => void,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const lib = url.protocol === 'https:' ? https : http;
    const agent = url.protocol === 'https:' ? agents['https:'] : agents['http:'];
    let done = false;
    const fail = (message: string) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      req.destroy();
      reject(new PostError(message));
    };
    const timer = setTimeout(() => fail('timeout'), timeoutMs);
    const req = lib.request(url, { method: 'POST', agent, headers: { ...headers, 'content-length': String(body.byteLength) } }, (res) => {
      onHeaders(res.statusCode ?? 0);
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', (e) => fail(e.message));
      res.on('aborted', () => fail('connection closed while reading the answer'));
      res.on('end', () => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, body: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks) });
      });
    });
    req.on('error', (e: NodeJS.ErrnoException) => {
      if (!done && req.reusedSocket && (e.code === 'ECONNRESET' || e.code === 'EPIPE')) {
        done = true;
        clearTimeout(timer);
        reject(new StaleConnection(e.message));
        return;
      }
      fail(e.message);
    });
    req.end(body);
  });
}

const parse = (b: Buffer): unknown => JSON.parse(b.toString('utf8'));

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
      let res: Answer;
      let body: { error?: { code?: string; message?: string } } | undefined;
      // counted until the body is read: the replica is busy until then
      ep.inFlight++;
      try {
        let observed = false;
        try {
          res = await post(
            new URL(`${url}/v1/analyze?${qs}`),
            image,
            { 'content-type': 'image/jpeg', accept: 'application/json' },
            this.timeoutMs,
            (status) => {
              observed = true;
              this.observe({ url, ms: performance.now() - started, ok: status >= 200 && status < 300, status });
            },
          );
        } catch (err) {
          // connection refused/reset or timeout: this replica may be gone, try the next one
          if (!observed) this.observe({ url, ms: performance.now() - started, ok: false });
          lastProblem = `${url}: ${(err as Error).message}`;
          continue;
        }
        if (res.status >= 200 && res.status < 300) return parse(res.body) as AnalyzeResponse;
        try {
          body = parse(res.body) as typeof body;
        } catch {
          body = undefined;
        }
      } finally {
        ep.inFlight--;
      }
      if (res.status === 503 || res.status === 502 || res.status === 504) {
        lastProblem = `${url}: ${res.status} ${body?.error?.code ?? ''}`;
        continue;
      }
      // The image itself was refused (corrupt, unsupported, too large): another replica would refuse it too.
      const code = body?.error?.code;
      if (
        code === ErrorCode.IMAGE_CORRUPT ||
        code === ErrorCode.IMAGE_UNSUPPORTED_TYPE ||
        code === ErrorCode.IMAGE_EMPTY ||
        code === ErrorCode.IMAGE_TOO_SMALL
      ) {
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
