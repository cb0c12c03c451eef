/**
 * How a Faceline session was authenticated, in OpenID Connect terms (acr, amr, auth_time).
 *
 * The one place that maps a session to these claims. Today it derives them from
 * `sessions.liveness` and `sessions.created_at` (the face login that created the session); when
 * the login flow records `amr`, `acr` and `auth_time` on the session itself, only this function
 * changes.
 */
import { ACR, type Acr } from '@faceline/contracts';
import type { SessionRecord } from '../repositories/session.repository.js';

export interface AuthContext {
  acr: Acr;
  /** RFC 8176 method references: "face" (biometric face recognition); liveness is told by acr */
  amr: string[];
  /** when the person showed their face, seconds since the epoch (the auth_time claim) */
  authTime: number;
  /** the same in milliseconds, for comparisons with sub-second moments */
  authTimeMs: number;
}

export function authContextOf(session: Pick<SessionRecord, 'liveness' | 'createdAt'>): AuthContext {
  return {
    acr: session.liveness ? ACR.faceLiveness : ACR.face,
    amr: ['face'],
    authTime: Math.floor(Date.parse(session.createdAt) / 1000),
    authTimeMs: Date.parse(session.createdAt),
  };
}
