/** The auth HTTP API through relative URLs (same origin: the web service or the Ingress forwards). */
import type { ErrorBody } from '@faceline/contracts';
import { ROUTES } from './contracts.js';
import type { Problem } from './problems.js';

export class ApiError extends Error {
  constructor(
    readonly problem: Problem,
    readonly status: number,
  ) {
    super(problem.kind === 'server' || problem.kind === 'client' ? problem.code : problem.camera);
    this.name = 'ApiError';
  }
}

/** A gateway answering 502/503/504 without our error body means auth itself is unreachable. */
export function problemFromResponse(status: number, body: unknown): Problem {
  const err = (body as Partial<ErrorBody> | null)?.error;
  if (err && typeof err.code === 'string') {
    return {
      kind: 'server',
      code: err.code,
      retryable: err.retryable,
      details: (err.details ?? undefined) as Record<string, unknown> | undefined,
    };
  }
  if (status === 502 || status === 503 || status === 504) return { kind: 'client', code: 'NETWORK' };
  if (status === 401) return { kind: 'server', code: 'UNAUTHENTICATED' };
  if (status === 403) return { kind: 'server', code: 'FORBIDDEN' };
  if (status === 404) return { kind: 'server', code: 'NOT_FOUND' };
  return { kind: 'client', code: 'UNKNOWN' };
}

const REFRESHABLE = new Set(['TOKEN_EXPIRED', 'UNAUTHENTICATED']);

async function raw(method: string, url: string, body?: unknown): Promise<Response> {
  try {
    return await fetch(url, {
      method,
      credentials: 'same-origin',
      headers: body === undefined ? { accept: 'application/json' } : { accept: 'application/json', 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(15_000),
    });
  } catch (err) {
    const name = (err as { name?: string }).name;
    throw new ApiError({ kind: 'client', code: name === 'TimeoutError' ? 'TIMEOUT' : 'NETWORK' }, 0);
  }
}

async function parse<T>(res: Response): Promise<T> {
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  let body: unknown = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = null;
  }
  if (!res.ok) throw new ApiError(problemFromResponse(res.status, body), res.status);
  return body as T;
}

/**
 * JSON request. An expired access token is renewed once with the refresh cookie and the
 * request repeated, so a person on their page is not thrown out every few minutes.
 */
export async function api<T>(method: string, url: string, body?: unknown): Promise<T> {
  const res = await raw(method, url, body);
  if (res.status === 401 && url !== ROUTES.refresh && url !== ROUTES.sessions) {
    const first = await parse<T>(res).catch((e: unknown) => e);
    const code = first instanceof ApiError && first.problem.kind === 'server' ? first.problem.code : '';
    if (REFRESHABLE.has(code)) {
      const refreshed = await raw('POST', ROUTES.refresh, {});
      if (refreshed.ok) return parse<T>(await raw(method, url, body));
    }
    if (first instanceof Error) throw first;
    return first as T;
  }
  return parse<T>(res);
}
