/**
 * Applies lib/text.ts to every Socket.IO event before its handler runs: a payload with hostile
 * text is answered INVALID_CHARACTERS (in the acknowledgement, or as flow:error without one) and
 * never reaches a flow; clean payloads go on with their strings NFC-normalised.
 */
import type { Socket } from 'socket.io';
import { cleanInput, textError } from '../lib/text.js';

export function guardText(socket: Socket): void {
  socket.use((packet, next) => {
    const last = packet[packet.length - 1] as unknown;
    const ack = packet.length > 1 && typeof last === 'function' ? (last as (r: unknown) => void) : undefined;
    const end = ack ? packet.length - 1 : packet.length;
    for (let i = 1; i < end; i++) {
      const r = cleanInput(packet[i]);
      if (r.problem) {
        const error = textError(r.problem).toAck();
        if (ack) ack({ error });
        else socket.emit('flow:error', { event: String(packet[0]).slice(0, 64), error });
        return;
      }
      packet[i] = r.value;
    }
    next();
  });
}
