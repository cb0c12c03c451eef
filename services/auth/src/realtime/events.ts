/**
 * Typed Socket.IO event handling: a handler's return value is the acknowledgement's data, so
 * an answer that does not match the contract's event map fails the type check. Payloads are
 * `unknown` until the handler validates them (clients are not trusted to follow the types).
 */
import type { Socket } from 'socket.io';
import { ErrorCode, type Ack, type AckError, type AckResponse, type ClientToServerEvents } from '@faceline/contracts';

export type ClientEvent = keyof ClientToServerEvents;

/** The data type of the acknowledgement of a client event. */
export type AckData<E extends ClientEvent> = Parameters<ClientToServerEvents[E]> extends [...unknown[], Ack<infer T>] ? T : never;

export interface HandlerHooks {
  /** false: refuse the event as too frequent (the hook answers) */
  admit(event: ClientEvent, reply: (r: AckResponse<never>) => void): boolean;
  /** an error became this acknowledgement error (log what needs logging) */
  failed(event: ClientEvent, err: unknown): AckError;
}

/** Registers `fn` for `event`; the last argument must be an acknowledgement callback. */
export function on<E extends ClientEvent>(
  socket: Socket,
  event: E,
  hooks: HandlerHooks,
  fn: (payload: unknown) => Promise<AckData<E>>,
): void {
  socket.on(event as string, async (...args: unknown[]) => {
    const ack = typeof args[args.length - 1] === 'function' ? (args.pop() as (r: AckResponse<AckData<E>>) => void) : undefined;
    const reply = (r: AckResponse<AckData<E>>) => {
      if (ack) ack(r);
      else if ('error' in r) socket.emit('flow:error', { event, error: r.error });
    };
    if (!hooks.admit(event, reply)) return;
    if (!ack) {
      socket.emit('flow:error', {
        event,
        error: { code: ErrorCode.VALIDATION_FAILED, message: `${event} needs an acknowledgement callback` },
      });
      return;
    }
    try {
      reply({ data: await fn(args[0]) });
    } catch (err) {
      reply({ error: hooks.failed(event, err) });
    }
  });
}
