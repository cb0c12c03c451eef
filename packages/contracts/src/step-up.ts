/**
 * Step-up: passkeys (WebAuthn credentials, a second factor) and the kiosk terminals an
 * administrator trusts. Both raise a session's assurance level (`ACR` in auth.ts) above a plain
 * face login, and administration needs one of them (ADMIN_STEP_UP).
 *
 * Passkeys: `POST /api/v1/me/passkeys/options` → WebAuthn creation options for the browser's
 * `startRegistration`; `POST /api/v1/me/passkeys` with its answer stores the credential. Both
 * need a fresh face login (REAUTH_REQUIRED otherwise). At sign-in, `POST /api/v1/sessions`
 * answers STEP_UP_REQUIRED with request options in `details.webauthn` for an administrator who
 * has a passkey and is not at a trusted kiosk; the browser runs `startAuthentication` and posts
 * the grant again with `webauthn`.
 *
 * Trusted devices: an administrator acting as one posts `POST /api/v1/admin/devices` from the
 * kiosk's browser, which receives the device credential in the httpOnly cookie `faceline_device`.
 */
import { Type, type Static } from '@sinclair/typebox';
import { IsoDateTime, UserId } from './auth.js';

/** A credential id as WebAuthn sends it (base64url). */
const CredentialId = Type.String({ minLength: 16, maxLength: 1400, pattern: '^[A-Za-z0-9_-]+$' });
const Label = Type.String({ minLength: 1, maxLength: 60, pattern: '\\S' });

export const Passkey = Type.Object({
  id: Type.String({ description: 'credential id (base64url)' }),
  name: Type.String(),
  createdAt: IsoDateTime,
  lastUsedAt: Type.Union([IsoDateTime, Type.Null()]),
});
export type Passkey = Static<typeof Passkey>;

/** GET /api/v1/me/passkeys */
export const PasskeysResponse = Type.Object({ passkeys: Type.Array(Passkey) });
export type PasskeysResponse = Static<typeof PasskeysResponse>;

/** POST /api/v1/me/passkeys/options — creation options for `startRegistration({ optionsJSON })`. */
export const PasskeyOptionsResponse = Type.Object({
  options: Type.Unknown({ description: 'PublicKeyCredentialCreationOptionsJSON; the challenge works once and expires' }),
});
export type PasskeyOptionsResponse = Static<typeof PasskeyOptionsResponse>;

/** POST /api/v1/me/passkeys — the browser's RegistrationResponseJSON and a name for the key. */
export const AddPasskeyRequest = Type.Object(
  {
    name: Type.Optional(Label),
    response: Type.Object({}, { additionalProperties: true, description: 'RegistrationResponseJSON from startRegistration' }),
  },
  { additionalProperties: false },
);
export type AddPasskeyRequest = Static<typeof AddPasskeyRequest>;

/** answer of POST /api/v1/me/passkeys (201) */
export const PasskeyResponse = Type.Object({ passkey: Passkey });
export type PasskeyResponse = Static<typeof PasskeyResponse>;

/** DELETE /api/v1/me/passkeys/:id */
export const PasskeyIdParams = Type.Object({ id: CredentialId }, { additionalProperties: false });
export type PasskeyIdParams = Static<typeof PasskeyIdParams>;

export const TrustedDevice = Type.Object({
  id: UserId,
  name: Type.String(),
  createdAt: IsoDateTime,
  createdBy: Type.Union([UserId, Type.Null()]),
  lastSeenAt: Type.Union([IsoDateTime, Type.Null()]),
  revokedAt: Type.Union([IsoDateTime, Type.Null()]),
  /** this browser holds the device's credential */
  current: Type.Boolean(),
});
export type TrustedDevice = Static<typeof TrustedDevice>;

/** POST /api/v1/admin/devices — trust the browser that sends this (sets the device cookie). */
export const TrustDeviceRequest = Type.Object({ name: Label }, { additionalProperties: false });
export type TrustDeviceRequest = Static<typeof TrustDeviceRequest>;

/** answer of POST /api/v1/admin/devices (201) */
export const TrustedDeviceResponse = Type.Object({ device: TrustedDevice });
export type TrustedDeviceResponse = Static<typeof TrustedDeviceResponse>;

/** GET /api/v1/admin/devices — newest first, revoked ones included (with revokedAt). */
export const TrustedDevicesResponse = Type.Object({ devices: Type.Array(TrustedDevice) });
export type TrustedDevicesResponse = Static<typeof TrustedDevicesResponse>;

/** DELETE /api/v1/admin/devices/:id */
export const DeviceIdParams = Type.Object({ id: UserId }, { additionalProperties: false });
export type DeviceIdParams = Static<typeof DeviceIdParams>;
