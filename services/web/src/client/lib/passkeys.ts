/**
 * Passkeys in the browser: the WebAuthn ceremonies through @simplewebauthn/browser, loaded
 * only when a passkey is actually used (most people never need one), and the step-up answer
 * of the grant exchange.
 */
import type {
  AuthenticationResponseJSON,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
  RegistrationResponseJSON,
} from '@simplewebauthn/browser';
import { ApiError } from './api.js';

/** The WebAuthn request options of a STEP_UP_REQUIRED answer, or null for any other error. */
export function stepUpOptions(err: unknown): PublicKeyCredentialRequestOptionsJSON | null {
  if (!(err instanceof ApiError) || err.problem.kind !== 'server' || err.problem.code !== 'STEP_UP_REQUIRED') return null;
  const options = err.problem.details?.webauthn;
  return options && typeof options === 'object' ? (options as PublicKeyCredentialRequestOptionsJSON) : null;
}

/** True when the error asks for a fresh face login first (REAUTH_REQUIRED). */
export function needsReauth(err: unknown): boolean {
  return err instanceof ApiError && err.problem.kind === 'server' && err.problem.code === 'REAUTH_REQUIRED';
}

const failed = () => new ApiError({ kind: 'client', code: 'PASSKEY_FAILED' }, 0);

/** Whether this browser, on this page, can use passkeys at all (WebAuthn in a secure context). */
export function passkeysSupported(): boolean {
  return typeof window !== 'undefined' && window.isSecureContext && typeof window.PublicKeyCredential === 'function';
}

/** Asks an authenticator of this person to confirm (the browser shows its own prompt). */
export async function passkeyAssertion(optionsJSON: PublicKeyCredentialRequestOptionsJSON): Promise<AuthenticationResponseJSON> {
  const { startAuthentication } = await import('@simplewebauthn/browser');
  try {
    return await startAuthentication({ optionsJSON });
  } catch {
    // cancelled, timed out, or no matching key on this device
    throw failed();
  }
}

/** Creates a passkey on an authenticator of this person's choice. */
export async function createPasskey(optionsJSON: PublicKeyCredentialCreationOptionsJSON): Promise<RegistrationResponseJSON> {
  const { startRegistration } = await import('@simplewebauthn/browser');
  try {
    return await startRegistration({ optionsJSON });
  } catch {
    throw failed();
  }
}

/**
 * Where to send a person who must show their face again before a change, and come back:
 * the login page with their user name, a note why, and the page to return to.
 */
export function reauthPath(username: string, next: string): string {
  return `/login?${new URLSearchParams({ u: username, next, reauth: '1' })}`;
}

/** A return path from the URL, only when it stays on this site (no //host, no scheme). */
export function safeNext(raw: string | null): string | null {
  if (!raw?.startsWith('/') || raw.startsWith('//') || raw.includes('\\')) return null;
  try {
    const u = new URL(raw, 'http://x.invalid');
    return u.origin === 'http://x.invalid' ? u.pathname + u.search + u.hash : null;
  } catch {
    return null;
  }
}
