/**
 * How a Faceline session was authenticated, in OpenID Connect terms (acr, amr, auth_time).
 *
 * The one place that maps a session to these claims. The login flow records them on the grant
 * and the session (migration 0002): the acr reached (face, with liveness, at a trusted kiosk,
 * confirmed with a passkey), the RFC 8176 methods, and when the face was shown. A session
 * refreshed later keeps its auth_time: the claim says when the person was last seen, not when a
 * token was minted.
 */
import { ACR, ACR_VALUES, acrSatisfies, type Acr } from '@faceline/contracts';
import type { SessionRecord } from '../repositories/session.repository.js';

export interface AuthContext {
  acr: Acr;
  /** RFC 8176 method references: "face" (biometric face recognition), "kiosk", "hwk", "mfa" */
  amr: string[];
  /** when the person showed their face, seconds since the epoch (the auth_time claim) */
  authTime: number;
  /** the same in milliseconds, for comparisons with sub-second moments */
  authTimeMs: number;
}

export function authContextOf(session: Pick<SessionRecord, 'acr' | 'amr' | 'authTime'>): AuthContext {
  const ms = Date.parse(session.authTime);
  return {
    // a value this version does not know (written by a newer one) claims the least
    acr: (ACR_VALUES as readonly string[]).includes(session.acr) ? (session.acr as Acr) : ACR.FACE,
    amr: session.amr.length > 0 ? [...session.amr] : ['face'],
    authTime: Math.floor(ms / 1000),
    authTimeMs: ms,
  };
}

/** The strongest of the requested acr values that `reached` satisfies (itself when requested), or undefined. */
export function strongestMet(reached: Acr, wanted: string[]): Acr | undefined {
  if (wanted.includes(reached)) return reached;
  const met = (ACR_VALUES as readonly string[]).filter((v) => wanted.includes(v) && acrSatisfies(reached, v as Acr));
  return met.at(-1) as Acr | undefined;
}
