/** The Socket.IO connection to auth, typed by the contract's event maps. */
import { io, type Socket } from 'socket.io-client';
import type { AckResponse, ClientToServerEvents, ServerToClientEvents } from '@faceline/contracts';
import { SOCKET_PATH } from './contracts.js';
import type { Problem } from './problems.js';

export type FacelineSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

export class FlowError extends Error {
  constructor(readonly problem: Problem) {
    super(problem.kind === 'camera' ? problem.camera : problem.code);
    this.name = 'FlowError';
  }
}

/** Opens the connection (relative URL: same origin) and waits until it is up. */
export function connect(timeoutMs = 10_000): Promise<FacelineSocket> {
  const socket: FacelineSocket = io({
    path: SOCKET_PATH,
    // Websocket first: it needs no sticky sessions behind several auth replicas.
    transports: ['websocket', 'polling'],
    tryAllTransports: true,
    withCredentials: true,
    reconnection: false,
    timeout: timeoutMs,
  });
  return new Promise((resolve, reject) => {
    const fail = () => {
      socket.close();
      reject(new FlowError({ kind: 'client', code: 'NETWORK' }));
    };
    socket.once('connect', () => {
      socket.off('connect_error', fail);
      resolve(socket);
    });
    socket.once('connect_error', fail);
  });
}

/**
 * Emits and waits for the acknowledgement; a missing answer, a lost connection or an
 * `{ error }` answer become a FlowError with a code the UI can explain.
 */
export async function request<T>(pending: Promise<AckResponse<T>>, timeoutMs = 15_000): Promise<T> {
  // socket.timeout() would lose the contract's acknowledgement types, so the timer is ours.
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new FlowError({ kind: 'client', code: 'TIMEOUT' })), timeoutMs);
  });
  let res: AckResponse<T>;
  try {
    res = await Promise.race([pending, timeout]);
  } catch (err) {
    // socket.io rejects pending acknowledgements when the connection closes.
    throw err instanceof FlowError ? err : new FlowError({ kind: 'client', code: 'DISCONNECTED' });
  } finally {
    clearTimeout(timer);
  }
  if (res && typeof res === 'object' && 'error' in res) {
    throw new FlowError({ kind: 'server', code: res.error.code, retryable: res.error.retryable, details: res.error.details });
  }
  return res.data;
}
