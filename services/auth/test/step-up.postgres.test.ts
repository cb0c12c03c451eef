/**
 * Step-up for what matters, end to end on PostgreSQL with the real vision service: passkeys
 * (a software authenticator, test/support/authenticator.ts), trusted kiosk devices, and fresh
 * face logins for a new face or a new passkey.
 *
 * Three replicas share one database:
 * - `plain`: LIVENESS=false, because there a face login only needs to happen (photos log in);
 *   liveness has its own tests. ADMIN_STEP_UP is on (the default). PUBLIC_URL names the site,
 *   so passkeys are bound to its RP ID and origin.
 * - `live`: liveness on with one-step challenges, for the trusted kiosk: only a login with
 *   liveness at a trusted device reaches the TRUSTED_DEVICE level. A real recording that
 *   blinks when asked (genuine.ts) is the person. Small penalties (back-off after 2, lock
 *   after 3, 1 s) so that a lock is reached in seconds.
 * - `stale`: LIVENESS=false and REAUTH_MAX_AGE_SECONDS=2, so a session turns stale quickly.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { Value } from '@sinclair/typebox/value';
import { ACR, ErrorCode, MeResponse, PasskeysResponse, SessionResponse, TrustedDevicesResponse } from '@faceline/contracts';
import { requireFaces } from '@faceline/testkit';
import { createStore, makeAdmin, startReplica, type Replica, type Store } from './support/auth.js';
import { SoftAuthenticator, type SoftPasskey } from './support/authenticator.js';
import { ask, connect, cookieHeader, data, enroll, errorCode, http, login, photo, variant } from './support/client.js';
import { d7Blink } from './support/genuine.js';
import { clipPerformer, performFlow } from './support/performer.js';
import { startVision, type ChildService } from './support/vision.js';

const PUBLIC_URL = 'https://faceline.example';
const SETUP_TOKEN = 'step-up-test-setup-token-0001';
const OBAMA = ['obama.jpg', 'obama_small.jpg', 'obama_partial_face.jpg'].map((f) => photo(`face_recognition/barack_obama/${f}`));
const OBAMA_OTHER = photo('face_recognition/barack_obama/obama3.jpg');
const D3 = ['d3_frame_t01.18.jpg', 'd3_frame_t03.55.jpg', 'd3_frame_t05.91.jpg'].map((f) => photo(`liveportrait/anon_lp_d3_woman/${f}`));

describe('step-up: passkeys, trusted kiosks, fresh face logins', { timeout: 600_000 }, () => {
  let vision: ChildService;
  let store: Store;
  let plain: Replica;
  let live: Replica;
  let stale: Replica;
  const authenticator = new SoftAuthenticator(PUBLIC_URL);
  const clip = d7Blink();
  const s: { userCookie?: string; passkey?: SoftPasskey; adminCookie?: string; deviceCookie?: string; deviceId?: string } = {};

  before(async () => {
    requireFaces();
    [vision, store] = await Promise.all([startVision(), createStore('postgres')]);
    plain = await startReplica(store, vision.url, {
      liveness: false,
      publicUrl: PUBLIC_URL,
      maxMismatchFrames: 1,
      setupToken: SETUP_TOKEN,
    });
    live = await startReplica(store, vision.url, {
      liveness: true,
      challengeSteps: 1,
      publicUrl: PUBLIC_URL,
      backoffAfter: 2,
      lockAfter: 3,
      backoffBaseSeconds: 1,
      backoffMaxSeconds: 1,
      pairBackoffAfter: 100,
    });
    stale = await startReplica(store, vision.url, { liveness: false, reauthMaxAgeSeconds: 2 });
  });
  after(async () => {
    for (const r of [plain, live, stale]) await r?.stop().catch(() => undefined);
    await vision?.stop();
    await store?.drop();
  });

  /** a face login on `r` (photos: liveness is off there) and its grant */
  async function grantFor(r: Replica, username: string, frame: Buffer): Promise<string> {
    const res = await login(r.url, { mode: 'verify', username }, [frame]);
    assert.ok(res.result?.ok, `login of ${username}: ${JSON.stringify(res.result ?? res.started)}`);
    return res.result.grant;
  }

  test('an administrator without a passkey acts as a user: role user in the token, STEP_UP_REQUIRED on admin routes', async () => {
    const reg = await http(plain.url, 'POST', '/api/v1/users', {
      body: { username: 'obama', displayName: 'Barack', setupToken: SETUP_TOKEN },
    });
    assert.equal(reg.json.user.role, 'admin', 'the setup token makes the first administrator');
    const enrolled = await enroll(plain.url, reg.json.enrollmentTicket, OBAMA);
    assert.ok(enrolled.result?.ok, JSON.stringify(enrolled.result));

    const grant = await grantFor(plain, 'obama', OBAMA_OTHER);
    const res = await http(plain.url, 'POST', '/api/v1/sessions', { body: { grant } });
    assert.equal(res.status, 200, res.text);
    assert.ok(Value.Check(SessionResponse, res.json));
    assert.deepEqual(res.json.assurance.amr, ['face']);
    assert.equal(res.json.assurance.acr, ACR.FACE);
    assert.equal(res.json.assurance.role, 'user');
    const { payload } = await jwtVerify(res.json.accessToken, createRemoteJWKSet(new URL(`${plain.url}/.well-known/jwks.json`)));
    assert.equal(payload.role, 'user', 'relying applications see an ordinary user');
    s.userCookie = cookieHeader(res.setCookies);

    const me = await http(plain.url, 'GET', '/api/v1/me', { cookie: s.userCookie });
    assert.ok(Value.Check(MeResponse, me.json), me.text);
    assert.equal(me.json.user.role, 'admin', 'the account is an administrator');
    assert.equal(me.json.session.role, 'user', 'this session acts as a user');
    for (const [method, path, body] of [
      ['GET', '/api/v1/admin/users'],
      ['GET', '/api/v1/admin/audit'],
      ['GET', '/api/v1/admin/devices'],
      ['POST', '/api/v1/admin/devices', { name: 'Kiosk' }],
    ] as const) {
      const denied = await http(plain.url, method, path, { cookie: s.userCookie, body });
      assert.equal(denied.status, 403, `${method} ${path}`);
      assert.equal(denied.json.error.code, ErrorCode.STEP_UP_REQUIRED, `${method} ${path}`);
      assert.equal(
        denied.setCookies.some((c) => c.startsWith('faceline_device=')),
        false,
        'no device credential without step-up',
      );
    }
  });

  test('adding a passkey: creation options for this site, the answer verified and stored, the challenge good once', async () => {
    const opt = await http(plain.url, 'POST', '/api/v1/me/passkeys/options', { cookie: s.userCookie });
    assert.equal(opt.status, 200, opt.text);
    assert.equal(opt.json.options.rp.id, 'faceline.example', 'the RP ID comes from PUBLIC_URL');
    assert.equal(opt.json.options.user.name, 'obama');
    assert.equal(opt.json.options.attestation, 'none');

    // an answer made on another site is refused, and spends the challenge
    const phished = authenticator.register(opt.json.options, { origin: 'https://faceline.example.evil.test' });
    const refused = await http(plain.url, 'POST', '/api/v1/me/passkeys', {
      cookie: s.userCookie,
      body: { name: 'Phone', response: phished.response },
    });
    assert.equal(refused.status, 400, refused.text);
    assert.equal(refused.json.error.code, ErrorCode.VALIDATION_FAILED);
    const sameChallenge = authenticator.register(opt.json.options);
    const spent = await http(plain.url, 'POST', '/api/v1/me/passkeys', {
      cookie: s.userCookie,
      body: { name: 'Phone', response: sameChallenge.response },
    });
    assert.equal(spent.json.error.code, ErrorCode.VALIDATION_FAILED, 'the challenge was used by the refused answer');

    const opt2 = await http(plain.url, 'POST', '/api/v1/me/passkeys/options', { cookie: s.userCookie });
    const made = authenticator.register(opt2.json.options);
    const added = await http(plain.url, 'POST', '/api/v1/me/passkeys', {
      cookie: s.userCookie,
      body: { name: 'Laptop', response: made.response },
    });
    assert.equal(added.status, 201, added.text);
    assert.equal(added.json.passkey.id, made.passkey.id);
    assert.equal(added.json.passkey.name, 'Laptop');
    s.passkey = made.passkey;
    const replay = await http(plain.url, 'POST', '/api/v1/me/passkeys', {
      cookie: s.userCookie,
      body: { name: 'Laptop', response: made.response },
    });
    assert.equal(replay.json.error.code, ErrorCode.VALIDATION_FAILED, 'the same registration again is refused');

    const list = await http(plain.url, 'GET', '/api/v1/me/passkeys', { cookie: s.userCookie });
    assert.ok(Value.Check(PasskeysResponse, list.json), list.text);
    assert.deepEqual(
      list.json.passkeys.map((p: { id: string }) => p.id),
      [made.passkey.id],
    );
    const bad = await http(plain.url, 'POST', '/api/v1/me/passkeys', { cookie: s.userCookie, body: { response: 'not an object' } });
    assert.equal(bad.json.error.code, ErrorCode.VALIDATION_FAILED);
    const { rows } = await plain.ctx.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM audit_events WHERE type = 'passkey.added'`);
    assert.equal(rows[0]!.n, 1);
  });

  test('an administrator with a passkey confirms the face login with it: acr mfa, role admin, administration open', async () => {
    const grant = await grantFor(plain, 'obama', variant(OBAMA_OTHER, 1));
    const first = await http(plain.url, 'POST', '/api/v1/sessions', { body: { grant } });
    assert.equal(first.status, 403, first.text);
    assert.equal(first.json.error.code, ErrorCode.STEP_UP_REQUIRED);
    const options = first.json.error.details.webauthn;
    assert.equal(options.rpId, 'faceline.example');
    assert.deepEqual(
      options.allowCredentials.map((c: { id: string }) => c.id),
      [s.passkey!.id],
    );
    assert.equal(first.setCookies.length, 0, 'no session yet');

    // signed for another origin: refused, the challenge is spent, the grant stays usable
    const wrongSite = await http(plain.url, 'POST', '/api/v1/sessions', {
      body: { grant, webauthn: authenticator.assert(s.passkey!, options, { origin: 'https://evil.test' }) },
    });
    assert.equal(wrongSite.status, 401, wrongSite.text);
    assert.equal(wrongSite.json.error.code, ErrorCode.UNAUTHENTICATED);
    const replayed = await http(plain.url, 'POST', '/api/v1/sessions', {
      body: { grant, webauthn: authenticator.assert(s.passkey!, options) },
    });
    assert.equal(replayed.json.error.code, ErrorCode.UNAUTHENTICATED, 'an answer to a spent challenge is refused');
    const garbage = await http(plain.url, 'POST', '/api/v1/sessions', { body: { grant, webauthn: { id: 42 } } });
    assert.equal(garbage.json.error.code, ErrorCode.UNAUTHENTICATED);

    const again = await http(plain.url, 'POST', '/api/v1/sessions', { body: { grant } });
    assert.equal(again.json.error.code, ErrorCode.STEP_UP_REQUIRED, 'the grant survived the refusals');
    const ok = await http(plain.url, 'POST', '/api/v1/sessions', {
      body: { grant, webauthn: authenticator.assert(s.passkey!, again.json.error.details.webauthn) },
    });
    assert.equal(ok.status, 200, ok.text);
    assert.equal(ok.json.assurance.acr, ACR.MFA);
    assert.deepEqual([...ok.json.assurance.amr].sort(), ['face', 'hwk', 'mfa']);
    assert.equal(ok.json.assurance.role, 'admin');
    const { payload } = await jwtVerify(ok.json.accessToken, createRemoteJWKSet(new URL(`${plain.url}/.well-known/jwks.json`)));
    assert.equal(payload.acr, 'urn:faceline:acr:mfa');
    assert.equal(payload.role, 'admin');
    s.adminCookie = cookieHeader(ok.setCookies);
    const used = await http(plain.url, 'POST', '/api/v1/sessions', { body: { grant } });
    assert.equal(used.json.error.code, ErrorCode.TOKEN_INVALID, 'a grant makes one session');

    const users = await http(plain.url, 'GET', '/api/v1/admin/users', { cookie: s.adminCookie });
    assert.equal(users.status, 200, users.text);
    const audit = await http(plain.url, 'GET', '/api/v1/admin/audit?type=session.stepped_up', { cookie: s.adminCookie });
    assert.equal(audit.json.events.length, 1);
    assert.equal(audit.json.events[0].username, 'obama');
  });

  test('a registration ticket enrolls once', async () => {
    const reg = await http(plain.url, 'POST', '/api/v1/users', { body: { username: 'anna', displayName: 'Anna' } });
    assert.equal(reg.json.user.role, 'user');
    const first = await enroll(plain.url, reg.json.enrollmentTicket, D3);
    assert.ok(first.result?.ok, JSON.stringify(first.result));
    const socket = await connect(plain.url);
    assert.equal(errorCode(await ask(socket, 'enroll:start', { ticket: reg.json.enrollmentTicket })), ErrorCode.TOKEN_INVALID);
    socket.disconnect();
  });

  test('trusting a kiosk needs an administrator acting as one; the browser gets an httpOnly, strict, long-lived device cookie', async () => {
    const bad = await http(plain.url, 'POST', '/api/v1/admin/devices', { cookie: s.adminCookie, body: { name: ' ' } });
    assert.equal(bad.status, 400);
    assert.equal(bad.json.error.code, ErrorCode.VALIDATION_FAILED);
    const res = await http(plain.url, 'POST', '/api/v1/admin/devices', { cookie: s.adminCookie, body: { name: 'Line 4 kiosk' } });
    assert.equal(res.status, 201, res.text);
    assert.equal(res.json.device.name, 'Line 4 kiosk');
    assert.equal(res.json.device.current, true);
    const set = res.setCookies.find((c) => c.startsWith('faceline_device='));
    assert.ok(set, 'the device cookie is set');
    assert.match(set, /HttpOnly/i);
    assert.match(set, /SameSite=Strict/i);
    assert.match(set, /Path=\//);
    const maxAge = Number(/Max-Age=(\d+)/i.exec(set)?.[1]);
    assert.ok(maxAge >= 365 * 86_400, `long-lived (Max-Age ${maxAge})`);
    s.deviceCookie = cookieHeader([set]);
    s.deviceId = res.json.device.id;
    const list = await http(plain.url, 'GET', '/api/v1/admin/devices', { cookie: `${s.adminCookie}; ${s.deviceCookie}` });
    assert.ok(Value.Check(TrustedDevicesResponse, list.json), list.text);
    assert.deepEqual(
      list.json.devices.map((d: any) => [d.id, d.current, d.revokedAt]),
      [[s.deviceId, true, null]],
    );
  });

  test('at the trusted kiosk: acr TRUSTED_DEVICE, past a lock that holds elsewhere, and the success lifts it', async () => {
    // dora is an administrator (made one by the first) who never added a passkey
    const reg = await http(live.url, 'POST', '/api/v1/users', { body: { username: 'dora', displayName: 'Dora' } });
    assert.equal(reg.json.user.role, 'user');
    await makeAdmin(live.ctx, reg.json.user.id);
    const es = await connect(live.url);
    const enrolled = await performFlow(es, 'enroll', { ticket: reg.json.enrollmentTicket }, clipPerformer(clip));
    es.disconnect();
    assert.ok(enrolled.result?.ok, JSON.stringify(enrolled.result ?? enrolled.started));

    // someone elsewhere tries her account three times (a face seen, then cancelled: each counts)
    for (let i = 0; i < 3; i++) {
      if (i === 2) await new Promise((r) => setTimeout(r, 1100)); // the back-off after two
      const socket = await connect(live.url);
      data(await ask(socket, 'login:start', { mode: 'verify', username: 'dora' }));
      data(await ask(socket, 'login:frame', { seq: 1, image: variant(clip.hold[0]!, 100 + i) }));
      data(await ask(socket, 'login:cancel'));
      socket.disconnect();
    }
    const elsewhere = await connect(live.url);
    assert.equal(errorCode(await ask(elsewhere, 'login:start', { mode: 'verify', username: 'dora' })), ErrorCode.ACCOUNT_LOCKED);
    elsewhere.disconnect();

    const kiosk = await connect(live.url, { cookie: s.deviceCookie });
    const res = await performFlow(kiosk, 'login', { mode: 'verify', username: 'dora' }, clipPerformer(clip));
    kiosk.disconnect();
    assert.ok(res.result?.ok, `the person at the trusted kiosk gets in: ${JSON.stringify(res.result ?? res.started)}`);
    const session = await http(live.url, 'POST', '/api/v1/sessions', { body: { grant: res.result.grant } });
    assert.equal(session.status, 200, session.text);
    assert.equal(session.json.assurance.acr, ACR.TRUSTED_DEVICE);
    assert.deepEqual(session.json.assurance.amr, ['face', 'kiosk']);
    assert.equal(session.json.assurance.role, 'admin', 'an administrator at a trusted kiosk needs no passkey');
    const admin = await http(live.url, 'GET', '/api/v1/admin/users?q=dora', { cookie: cookieHeader(session.setCookies) });
    assert.equal(admin.status, 200, admin.text);
    assert.equal(admin.json.users[0].locked, false, 'the success at the kiosk lifted the lock');

    const again = await connect(live.url);
    const started = await ask(again, 'login:start', { mode: 'verify', username: 'dora' });
    assert.equal(errorCode(started), undefined, `elsewhere works again: ${JSON.stringify(started)}`);
    data(await ask(again, 'login:cancel'));
    again.disconnect();
    const devices = await http(plain.url, 'GET', '/api/v1/admin/devices', { cookie: s.adminCookie });
    assert.ok(devices.json.devices[0].lastSeenAt, 'the kiosk was seen');
  });

  test('a revoked device no longer counts', async () => {
    const revoked = await http(plain.url, 'DELETE', `/api/v1/admin/devices/${s.deviceId}`, {
      cookie: `${s.adminCookie}; ${s.deviceCookie}`,
    });
    assert.equal(revoked.status, 204, revoked.text);
    assert.ok(
      revoked.setCookies.some((c) => c.startsWith('faceline_device=;') || /faceline_device=.*Expires=Thu, 01 Jan 1970/i.test(c)),
      'this browser forgets the credential',
    );
    const twice = await http(plain.url, 'DELETE', `/api/v1/admin/devices/${s.deviceId}`, { cookie: s.adminCookie });
    assert.equal(twice.json.error.code, ErrorCode.NOT_FOUND);

    // the old credential, kept by a browser that did not forget it
    const kiosk = await connect(live.url, { cookie: s.deviceCookie });
    const res = await performFlow(kiosk, 'login', { mode: 'verify', username: 'dora' }, clipPerformer(clip));
    kiosk.disconnect();
    assert.ok(res.result?.ok, JSON.stringify(res.result ?? res.started));
    const session = await http(live.url, 'POST', '/api/v1/sessions', { body: { grant: res.result.grant } });
    assert.equal(session.json.assurance.acr, ACR.FACE_LIVENESS, 'a face login with liveness, no longer at a trusted device');
    assert.deepEqual(session.json.assurance.amr, ['face']);
    assert.equal(session.json.assurance.role, 'user');
    const list = await http(plain.url, 'GET', '/api/v1/admin/devices', { cookie: s.adminCookie });
    assert.ok(list.json.devices[0].revokedAt);
    const { rows } = await plain.ctx.db.query<{ type: string }>(`SELECT type FROM audit_events WHERE type LIKE 'device.%' ORDER BY id`);
    assert.deepEqual(
      rows.map((r) => r.type),
      ['device.trusted', 'device.revoked'],
    );
  });

  test('a stale session gets REAUTH_REQUIRED for a new face (HTTP ticket and enroll:start) and a new passkey; a fresh one passes', async () => {
    const { setCookies } = await http(stale.url, 'POST', '/api/v1/sessions', {
      body: { grant: await grantFor(stale, 'anna', variant(D3[1]!, 1)) },
    });
    const cookie = cookieHeader(setCookies);
    const fresh = await http(stale.url, 'POST', '/api/v1/me/enrollment-ticket', { cookie });
    assert.equal(fresh.status, 200, `right after the face login: ${fresh.text}`);

    await new Promise((r) => setTimeout(r, 2500));
    const ticket = await http(stale.url, 'POST', '/api/v1/me/enrollment-ticket', { cookie });
    assert.equal(ticket.status, 403);
    assert.equal(ticket.json.error.code, ErrorCode.REAUTH_REQUIRED);
    assert.equal(ticket.json.error.details.maxAgeSeconds, 2);
    const options = await http(stale.url, 'POST', '/api/v1/me/passkeys/options', { cookie });
    assert.equal(options.json.error.code, ErrorCode.REAUTH_REQUIRED);
    const socket = await connect(stale.url, { cookie });
    assert.equal(errorCode(await ask(socket, 'enroll:start', {})), ErrorCode.REAUTH_REQUIRED);
    socket.disconnect();

    // the ticket issued while fresh works, once
    const re = await enroll(
      stale.url,
      fresh.json.enrollmentTicket,
      D3.map((f, i) => variant(f, 10 + i)),
    );
    assert.ok(re.result?.ok, JSON.stringify(re.result));
    const reuse = await connect(stale.url);
    assert.equal(errorCode(await ask(reuse, 'enroll:start', { ticket: fresh.json.enrollmentTicket })), ErrorCode.TOKEN_INVALID);
    reuse.disconnect();
  });

  test('removing a passkey: only my own, audited', async () => {
    const other = await http(plain.url, 'DELETE', `/api/v1/me/passkeys/${s.passkey!.id}`, { cookie: (await signInAnna()).cookie });
    assert.equal(other.json.error.code, ErrorCode.NOT_FOUND, "another person's passkey is not found");
    const malformed = await http(plain.url, 'DELETE', '/api/v1/me/passkeys/not*base64', { cookie: s.adminCookie });
    assert.equal(malformed.json.error.code, ErrorCode.VALIDATION_FAILED);
    const gone = await http(plain.url, 'DELETE', `/api/v1/me/passkeys/${s.passkey!.id}`, { cookie: s.adminCookie });
    assert.equal(gone.status, 204, gone.text);
    const list = await http(plain.url, 'GET', '/api/v1/me/passkeys', { cookie: s.adminCookie });
    assert.deepEqual(list.json.passkeys, []);
    const { rows } = await plain.ctx.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM audit_events WHERE type = 'passkey.removed'`);
    assert.equal(rows[0]!.n, 1);
  });

  async function signInAnna(): Promise<{ cookie: string }> {
    const res = await http(plain.url, 'POST', '/api/v1/sessions', { body: { grant: await grantFor(plain, 'anna', variant(D3[2]!, 30)) } });
    return { cookie: cookieHeader(res.setCookies) };
  }
});
