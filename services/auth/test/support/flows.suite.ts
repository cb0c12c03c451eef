/**
 * The end-to-end behaviour of one auth replica, run against each database backend: real
 * vision (child process), real photos, real Socket.IO and HTTP clients.
 *
 * Phase 1 runs with liveness switched off explicitly (LIVENESS=off), so photos can log in;
 * phase 2 restarts the replica on the same data with liveness on and one-step challenges
 * (a blink): a real recording whose person blinks when asked enrolls and logs in, a replayed
 * still photo fails, and no frame answer says whether the face matched.
 * Administration runs without step-up here (ADMIN_STEP_UP=false); step-up has its own tests.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import sharp from 'sharp';
import { Value } from '@sinclair/typebox/value';
import {
  ACR,
  AdminUsersResponse,
  AuditResponse,
  ErrorCode,
  FeedbackCode,
  MeResponse,
  MyAuditResponse,
  RegisterResponse,
  SessionResponse,
  SIGN_IN_EVENT_TYPES,
  type EnrollFrameResult,
  type LoginFrameResult,
  type LoginStarted,
} from '@faceline/contracts';
import { embeddingToBytes } from '../../src/lib/crypto.js';
import { requireFaces } from '@faceline/testkit';
import { createStore, startReplica, type Backend, type Replica, type Store } from './auth.js';
import { ask, connect, cookieHeader, data, enroll, errorCode, http, login, photo, variant } from './client.js';
import { startVision, type ChildService } from './vision.js';
import { clipPerformer, performFlow } from './performer.js';
import { d7Blink } from './genuine.js';

const OBAMA = ['obama.jpg', 'obama_small.jpg', 'obama_partial_face.jpg'].map((f) => photo(`face_recognition/barack_obama/${f}`));
const OBAMA_OTHER = photo('face_recognition/barack_obama/obama3.jpg');
const OBAMA_480 = photo('face_recognition/barack_obama/obama-480p.jpg');
const BIDEN = [photo('face_recognition/joe_biden/biden.jpg'), photo('face_recognition/joe_biden/biden2.jpg')];
const KIT = photo('face_recognition/kit_harington/john1.jpeg');
const D3 = ['d3_frame_t01.18.jpg', 'd3_frame_t03.55.jpg', 'd3_frame_t05.91.jpg'].map((f) => photo(`liveportrait/anon_lp_d3_woman/${f}`));
const NOFACE = photo('human/noface/background.jpg');
const MULTI = photo('face_recognition/multi/two_people.jpg');

/** Fast penalties so that back-off and lock are reached in seconds; the unit tests cover the real defaults. */
const PHASE1 = {
  liveness: false,
  adminStepUp: false,
  maxMismatchFrames: 1,
  pairBackoffAfter: 3,
  backoffAfter: 3,
  lockAfter: 5,
  backoffBaseSeconds: 1,
  backoffMaxSeconds: 1,
  maxFrameBytes: 600_000,
};

export function flowSuite(backend: Backend): void {
  describe(`auth on ${backend} with the real vision service`, { timeout: 600_000 }, () => {
    let vision: ChildService;
    let store: Store;
    let r: Replica;
    const state: { obamaId?: string; obamaCookie?: string; adminCookie?: string; d3Id?: string } = {};

    before(async () => {
      requireFaces();
      [vision, store] = await Promise.all([startVision(), createStore(backend)]);
      r = await startReplica(store, vision.url, PHASE1);
    });
    after(async () => {
      await r?.stop().catch(() => undefined);
      await vision?.stop();
      await store?.drop();
    });

    /** login with liveness off and exchange the grant for a session; returns the cookie header */
    async function signIn(username: string, frame: Buffer): Promise<{ cookie: string; body: any }> {
      const res = await login(r.url, { mode: 'verify', username }, [frame]);
      assert.ok(res.result?.ok, `login of ${username} failed: ${JSON.stringify(res.result ?? res.started)}`);
      const s = await http(r.url, 'POST', '/api/v1/sessions', { body: { grant: res.result.grant } });
      assert.equal(s.status, 200, s.text);
      return { cookie: cookieHeader(s.setCookies), body: s.json };
    }

    test('register, then enroll from three photos with specific feedback for bad frames', async () => {
      // the first administrator registers with the one-time setup link auth printed at start
      assert.equal(r.ctx.setup.state, 'link-issued');
      const setupToken = r.ctx.setup.state === 'link-issued' ? r.ctx.setup.token : '';
      const reg = await http(r.url, 'POST', '/api/v1/users', { body: { username: 'obama', displayName: 'Barack', setupToken } });
      assert.equal(reg.status, 201, reg.text);
      assert.ok(Value.Check(RegisterResponse, reg.json));
      assert.equal(reg.json.user.role, 'admin', 'the setup link makes the first administrator');
      assert.equal(reg.json.user.enrolled, false);
      state.obamaId = reg.json.user.id;

      const res = await enroll(r.url, reg.json.enrollmentTicket, [NOFACE, MULTI, OBAMA[0]!, BIDEN[0]!, OBAMA[1]!, OBAMA[2]!]);
      const acks = res.acks.map((a) => data(a as any) as EnrollFrameResult);
      assert.deepEqual(acks[0]!.feedback, [FeedbackCode.NO_FACE]);
      assert.deepEqual(acks[1]!.feedback, [FeedbackCode.MULTIPLE_FACES]);
      assert.equal(acks[2]!.accepted, true);
      assert.deepEqual(acks[3]!.feedback, [FeedbackCode.FACE_CHANGED], 'another person in the middle is not a capture');
      assert.equal(acks[3]!.accepted, false);
      assert.equal(acks[5]!.completed, true);
      // where the face is, in the pixels of the frame as sent, so the browser can draw it
      assert.equal(acks[0]!.box, undefined, 'no face, no box');
      assert.equal(acks[1]!.box, undefined, 'several faces: no single box');
      for (const i of [2, 3, 4, 5]) {
        const a = acks[i]!;
        const meta = await sharp([NOFACE, MULTI, OBAMA[0]!, BIDEN[0]!, OBAMA[1]!, OBAMA[2]!][i]!).metadata();
        assert.deepEqual(a.frameSize, { width: meta.width, height: meta.height }, `frame ${i}`);
        assert.ok(a.box && a.box.width > 40 && a.box.height > 40, `frame ${i} has a face box`);
        assert.ok(a.box.x >= -a.box.width / 2 && a.box.x + a.box.width <= meta.width! + a.box.width / 2, `frame ${i} box inside the frame`);
        assert.ok(a.box.y >= -a.box.height / 2 && a.box.y + a.box.height <= meta.height! + a.box.height / 2);
        const event = res.feedback.find((f) => f.seq === a.seq);
        assert.deepEqual(event?.box, a.box, 'the feedback event carries the same box');
        assert.deepEqual(event?.frameSize, a.frameSize);
      }
      assert.ok(res.result?.ok, JSON.stringify(res.result));
      assert.equal(res.result.templateCount, 3);
      assert.equal(r.ctx.templates.index.size, 3);
    });

    test('templates are encrypted at rest: the stored bytes are not the embedding', async () => {
      const { rows } = await r.ctx.db.query<{ ciphertext: Uint8Array; nonce: Uint8Array }>(
        'SELECT ciphertext, nonce FROM face_templates WHERE user_id = $1',
        [state.obamaId],
      );
      assert.equal(rows.length, 3);
      const report = await r.ctx.vision.analyze(OBAMA[0]!);
      const plain = embeddingToBytes(report.faces[0]!.embedding!);
      for (const row of rows) {
        const stored = Buffer.from(row.ciphertext);
        assert.equal(stored.length, 128 * 4 + 16, 'AES-GCM: ciphertext plus tag');
        // no 4-byte float of the embedding appears in any stored ciphertext at its position
        let same = 0;
        for (let i = 0; i < 128; i++) if (stored.readUInt32LE(i * 4) === plain.readUInt32LE(i * 4)) same++;
        assert.ok(same < 4, `stored bytes resemble the embedding (${same} equal floats)`);
      }
      // and they decrypt back to the embedding of one of the enrollment photos
      const templates = await r.ctx.templates.forUser(state.obamaId!);
      const nearest = Math.min(...templates.map((t) => Math.hypot(...t.embedding.map((v, i) => v - report.faces[0]!.embedding![i]!))));
      assert.ok(nearest < 1e-3, `decrypted template equals the enrolled embedding (${nearest})`);
    });

    test('1:1 login with a different photo, session cookies, JWKS-verifiable token, profile, refresh rotation, logout', async () => {
      const res = await login(r.url, { mode: 'verify', username: 'obama' }, [OBAMA_OTHER]);
      const started = data(res.started as any) as LoginStarted;
      assert.equal(started.liveness, false);
      assert.equal(started.steps, 0);
      assert.ok(res.result?.ok, JSON.stringify(res.result));
      assert.equal(res.result.user.username, 'obama');
      const frameAck = data(res.acks[0] as any) as LoginFrameResult;
      const meta = await sharp(OBAMA_OTHER).metadata();
      assert.deepEqual(frameAck.frameSize, { width: meta.width, height: meta.height });
      assert.ok(frameAck.box && frameAck.box.width > 40, 'the login acknowledgement carries the face box');

      const s = await http(r.url, 'POST', '/api/v1/sessions', { body: { grant: res.result.grant } });
      assert.equal(s.status, 200, s.text);
      assert.ok(Value.Check(SessionResponse, s.json));
      const access = s.setCookies.find((c) => c.startsWith('faceline_access='));
      const refresh = s.setCookies.find((c) => c.startsWith('faceline_refresh='));
      assert.match(access ?? '', /HttpOnly/i);
      assert.match(access ?? '', /SameSite=Lax/i);
      assert.doesNotMatch(access ?? '', /Secure/i, 'plain HTTP: no Secure flag');
      assert.match(refresh ?? '', /Path=\/api\/v1\/sessions/);
      const again = await http(r.url, 'POST', '/api/v1/sessions', { body: { grant: res.result.grant } });
      assert.equal(again.json?.error?.code, ErrorCode.TOKEN_INVALID, 'a grant works once');

      // another application verifies the token with nothing but the JWKS
      const jwks = createRemoteJWKSet(new URL(`${r.url}/.well-known/jwks.json`));
      const { payload, protectedHeader } = await jwtVerify(s.json.accessToken, jwks, { issuer: 'faceline', audience: 'faceline' });
      assert.equal(payload.sub, state.obamaId);
      assert.equal(payload.username, 'obama');
      assert.equal(protectedHeader.alg, 'ES256');
      assert.deepEqual(payload.amr, ['face']);
      assert.equal(payload.acr, ACR.FACE, 'the assurance level says no liveness challenge was passed');

      const jar = new Map<string, string>();
      let cookie = cookieHeader(s.setCookies, jar);
      const me = await http(r.url, 'GET', '/api/v1/me', { cookie });
      assert.equal(me.status, 200, me.text);
      assert.ok(Value.Check(MeResponse, me.json));
      const byBearer = await http(r.url, 'GET', '/api/v1/me', { bearer: s.json.accessToken });
      assert.equal(byBearer.status, 200);

      const patched = await http(r.url, 'PATCH', '/api/v1/me', {
        cookie,
        body: { displayName: 'Barack O.', profile: { station: 'Line 4', theme: 'dark' } },
      });
      assert.equal(patched.status, 200, patched.text);
      assert.equal(patched.json.user.displayName, 'Barack O.');
      const bad = await http(r.url, 'PATCH', '/api/v1/me', { cookie, body: { profile: { station: 'x'.repeat(500) } } });
      assert.equal(bad.json?.error?.code, ErrorCode.VALIDATION_FAILED);
      const cleared = await http(r.url, 'PATCH', '/api/v1/me', { cookie, body: { profile: { theme: null } } });
      assert.deepEqual(cleared.json.profile, { station: 'Line 4' }, 'null clears one field and keeps the others');

      const oldRefresh = jar.get('faceline_refresh')!;
      const ref = await http(r.url, 'POST', '/api/v1/sessions/refresh', { cookie });
      assert.equal(ref.status, 200, ref.text);
      cookie = cookieHeader(ref.setCookies, jar);
      assert.notEqual(jar.get('faceline_refresh'), oldRefresh, 'refresh token rotates');
      assert.equal(ref.json.profile.station, 'Line 4', 'profile comes back with the session');

      const logout = await http(r.url, 'POST', '/api/v1/sessions/logout', { cookie });
      assert.equal(logout.status, 204);
      const after = await http(r.url, 'GET', '/api/v1/me', { bearer: ref.json.accessToken });
      assert.equal(after.json?.error?.code, ErrorCode.SESSION_REVOKED, 'logout revokes the session at once');
      const stale = await http(r.url, 'POST', '/api/v1/sessions/refresh', { body: { refreshToken: jar.get('faceline_refresh') } });
      assert.equal(stale.status, 401);
    });

    test('a reused (already rotated) refresh token ends the whole session', async () => {
      const { cookie } = await signIn('obama', variant(OBAMA_OTHER, 1));
      const refreshToken = /faceline_refresh=([^;]+)/.exec(cookie)![1]!;
      const first = await http(r.url, 'POST', '/api/v1/sessions/refresh', { body: { refreshToken } });
      assert.equal(first.status, 200);
      const replay = await http(r.url, 'POST', '/api/v1/sessions/refresh', { body: { refreshToken } });
      assert.equal(replay.json?.error?.code, ErrorCode.SESSION_REVOKED);
      const rotatedToo = await http(r.url, 'GET', '/api/v1/me', { bearer: first.json.accessToken });
      assert.equal(rotatedToo.json?.error?.code, ErrorCode.SESSION_REVOKED, 'the thief and the owner both lose the session');
    });

    test('kiosk 1:N finds the person; another person is rejected in both modes', async () => {
      const kiosk = await login(r.url, { mode: 'identify' }, [variant(OBAMA_OTHER, 2)]);
      assert.ok(kiosk.result?.ok, JSON.stringify(kiosk.result));
      assert.equal(kiosk.result.user.username, 'obama');

      const wrong = await login(r.url, { mode: 'verify', username: 'obama' }, [BIDEN[1]!]);
      assert.equal(wrong.result?.ok, false);
      assert.equal(!wrong.result?.ok && wrong.result?.error.code, ErrorCode.FACE_MISMATCH);
      const unknown = await login(r.url, { mode: 'identify' }, [KIT]);
      assert.equal(!unknown.result?.ok && unknown.result?.error.code, ErrorCode.FACE_UNKNOWN);
      // the failure above counted; a success clears the account's consecutive failures
      const ok = await login(r.url, { mode: 'verify', username: 'obama' }, [variant(OBAMA_OTHER, 3)]);
      assert.ok(ok.result?.ok);
    });

    test('a face already enrolled under another account is refused', async () => {
      const reg = await http(r.url, 'POST', '/api/v1/users', { body: { username: 'not-obama', displayName: 'Impostor' } });
      assert.equal(reg.json.user.role, 'user');
      const res = await enroll(r.url, reg.json.enrollmentTicket, [OBAMA_480, variant(OBAMA[1]!, 9), variant(OBAMA[0]!, 9)]);
      assert.equal(!res.result?.ok && res.result?.error.code, ErrorCode.FACE_ALREADY_ENROLLED);
      const { rows } = await r.ctx.db.query<{ n: number }>('SELECT count(*)::int AS n FROM face_templates WHERE user_id = $1', [
        reg.json.user.id,
      ]);
      assert.equal(rows[0]!.n, 0);
      // a genuinely new face enrolls fine on the same account
      const d3 = await enroll(
        r.url,
        (await http(r.url, 'POST', '/api/v1/users', { body: { username: 'anna', displayName: 'Anna' } })).json.enrollmentTicket,
        D3,
      );
      assert.ok(d3.result?.ok, JSON.stringify(d3.result));
      state.d3Id = d3.result.user.id;
    });

    test('malformed, oversized, out-of-order, replayed and flooding events get error codes and change nothing', async () => {
      const before = await r.ctx.db.query<{ n: number }>(
        'SELECT (SELECT count(*) FROM audit_events)::int + (SELECT count(*) FROM face_templates)::int + (SELECT count(*) FROM sessions)::int AS n',
      );
      const s = await connect(r.url);
      const flowErrors: string[] = [];
      s.on('flow:error', (e) => flowErrors.push(e.error.code));
      const jpeg = variant(OBAMA_OTHER, 50);
      assert.equal(errorCode(await ask(s, 'login:frame', { seq: 1, image: jpeg })), ErrorCode.FLOW_NOT_STARTED);
      assert.equal(errorCode(await ask(s, 'login:start', { mode: 'sideways' })), ErrorCode.VALIDATION_FAILED);
      assert.equal(errorCode(await ask(s, 'login:start', 'garbage')), ErrorCode.VALIDATION_FAILED);
      assert.equal(errorCode(await ask(s, 'login:start', { mode: 'verify' })), ErrorCode.VALIDATION_FAILED, 'verify needs a username');
      assert.equal(errorCode(await ask(s, 'login:start', { mode: 'verify', username: 'nobody' })), ErrorCode.USER_NOT_FOUND);
      assert.equal(errorCode(await ask(s, 'enroll:start', { ticket: 'x'.repeat(40) })), ErrorCode.TOKEN_INVALID);
      assert.equal(errorCode(await ask(s, 'enroll:start', {})), ErrorCode.UNAUTHENTICATED);
      data(await ask(s, 'login:start', { mode: 'verify', username: 'anna' }));
      assert.equal(errorCode(await ask(s, 'login:start', { mode: 'identify' })), ErrorCode.FLOW_ALREADY_RUNNING);
      assert.equal(errorCode(await ask(s, 'login:frame', { seq: 'one', image: jpeg })), ErrorCode.VALIDATION_FAILED);
      assert.equal(errorCode(await ask(s, 'login:frame', { seq: -1, image: jpeg })), ErrorCode.VALIDATION_FAILED);
      assert.equal(errorCode(await ask(s, 'login:frame', { seq: 1, image: 'not binary' })), ErrorCode.VALIDATION_FAILED);
      assert.equal(errorCode(await ask(s, 'login:frame', { seq: 1, image: Buffer.alloc(600_001, 0xff) })), ErrorCode.PAYLOAD_TOO_LARGE);
      assert.equal(
        errorCode(await ask(s, 'login:frame', { seq: 1, image: Buffer.from('89504e470d0a1a0a0000', 'hex') })),
        ErrorCode.IMAGE_UNSUPPORTED_TYPE,
      );
      // a corrupt JPEG reaches vision and comes back as a clear refusal; the flow goes on
      assert.equal(
        errorCode(await ask(s, 'login:frame', { seq: 1, image: Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 4]) })),
        ErrorCode.IMAGE_CORRUPT,
      );
      const ok = data(await ask(s, 'login:frame', { seq: 10, image: NOFACE })) as LoginFrameResult;
      assert.deepEqual(ok.feedback, [FeedbackCode.NO_FACE]);
      assert.equal(errorCode(await ask(s, 'login:frame', { seq: 10, image: variant(NOFACE, 1) })), ErrorCode.FRAME_REPLAYED);
      assert.equal(errorCode(await ask(s, 'login:frame', { seq: 9, image: variant(NOFACE, 2) })), ErrorCode.FRAME_OUT_OF_ORDER);
      assert.equal(errorCode(await ask(s, 'login:frame', { seq: 11, image: NOFACE })), ErrorCode.FRAME_REPLAYED, 'same bytes again');
      (s as unknown as { emit: (e: string, p: unknown) => void }).emit('login:frame', { seq: 12, image: NOFACE }); // no acknowledgement callback
      (s as any).emit('no:such-event', 1, () => undefined);
      // a flood: far more events than allowed per second
      const flood = await Promise.all(Array.from({ length: 150 }, () => ask(s, 'login:cancel')));
      assert.ok(
        flood.some((a) => errorCode(a) === ErrorCode.RATE_LIMITED),
        'flooding is refused',
      );
      await new Promise((res) => setTimeout(res, 300));
      assert.ok(flowErrors.includes(ErrorCode.VALIDATION_FAILED), 'missing acknowledgement reported');
      assert.ok(flowErrors.includes(ErrorCode.NOT_FOUND), 'unknown event reported');
      s.disconnect();

      const health = await http(r.url, 'GET', '/healthz');
      assert.equal(health.status, 200, 'process still serving');
      const afterCount = await r.ctx.db.query<{ n: number }>(
        'SELECT (SELECT count(*) FROM audit_events)::int + (SELECT count(*) FROM face_templates)::int + (SELECT count(*) FROM sessions)::int AS n',
      );
      assert.equal(afterCount.rows[0]!.n, before.rows[0]!.n, 'nothing was written');
    });

    test('back-off after consecutive failures, lock after more, admin unlock', async () => {
      const fail = () => login(r.url, { mode: 'verify', username: 'anna' }, [variant(KIT, Math.floor(Math.random() * 1e9))]);
      for (let i = 0; i < PHASE1.backoffAfter; i++) {
        const f = await fail();
        assert.equal(!f.result?.ok && f.result?.error.code, ErrorCode.FACE_MISMATCH, `attempt ${i + 1}`);
      }
      const blocked = await fail();
      assert.equal(errorCode(blocked.started as any), ErrorCode.BACKOFF);
      assert.ok(((blocked.started as any).error.details.retryAfterMs as number) <= 1000);
      for (let i = PHASE1.backoffAfter; i < PHASE1.lockAfter; i++) {
        await new Promise((res) => setTimeout(res, 1100));
        const f = await fail();
        assert.equal(!f.result?.ok && f.result?.error.code, ErrorCode.FACE_MISMATCH);
      }
      await new Promise((res) => setTimeout(res, 1100));
      const locked = await login(r.url, { mode: 'verify', username: 'anna' }, [D3[0]!]);
      assert.equal(errorCode(locked.started as any), ErrorCode.ACCOUNT_LOCKED, 'locked even for the right face');
      const kioskLocked = await login(r.url, { mode: 'identify' }, [variant(D3[1]!, 1)]);
      assert.equal(!kioskLocked.result?.ok && kioskLocked.result?.error.code, ErrorCode.ACCOUNT_LOCKED, 'kiosk respects the lock');

      const admin = await signIn('obama', variant(OBAMA_OTHER, 60));
      state.adminCookie = admin.cookie;
      const list = await http(r.url, 'GET', '/api/v1/admin/users?q=ann', { cookie: admin.cookie });
      assert.equal(list.status, 200, list.text);
      assert.ok(Value.Check(AdminUsersResponse, list.json));
      const anna = list.json.users.find((u: any) => u.username === 'anna') as any;
      assert.equal(anna.locked, true);
      // the kiosk attempt on the locked account counted too: attempts are counted as they begin
      assert.equal(anna.failedAttempts, PHASE1.lockAfter + 1);

      const unlock = await http(r.url, 'POST', `/api/v1/admin/users/${anna.id}/unlock`, { cookie: admin.cookie });
      assert.equal(unlock.status, 200, unlock.text);
      assert.equal(unlock.json.user.locked, false);
      const back = await login(r.url, { mode: 'verify', username: 'anna' }, [variant(D3[0]!, 7)]);
      assert.ok(back.result?.ok, JSON.stringify(back.result ?? back.started));
    });

    test('admin only: audit log records logins with distances and never biometric data', async () => {
      const { cookie } = await signIn('anna', variant(D3[1]!, 20));
      const denied = await http(r.url, 'GET', '/api/v1/admin/audit', { cookie });
      assert.equal(denied.json?.error?.code, ErrorCode.FORBIDDEN);
      const res = await http(r.url, 'GET', '/api/v1/admin/audit?limit=200', { cookie: state.adminCookie });
      assert.equal(res.status, 200, res.text);
      assert.ok(Value.Check(AuditResponse, res.json));
      const types = new Set(res.json.events.map((e: any) => e.type));
      for (const t of [
        'user.registered',
        'enroll.completed',
        'enroll.refused',
        'login.succeeded',
        'login.failed',
        'account.backoff',
        'account.locked',
        'account.unlocked',
      ]) {
        assert.ok(types.has(t), `audit has ${t}`);
      }
      const failed = res.json.events.find((e: any) => e.type === 'login.failed' && e.code === ErrorCode.FACE_MISMATCH) as any;
      assert.ok(failed.distance > 0.55, 'the distance of the refused face is recorded');
      assert.equal(failed.liveness, 'off');
      assert.ok(!/embedding|\[(-?\d\.\d+,){20}/.test(res.text), 'no embeddings in the audit log');
      const page = await http(r.url, 'GET', '/api/v1/admin/audit?limit=2', { cookie: state.adminCookie });
      const next = await http(r.url, 'GET', `/api/v1/admin/audit?limit=2&cursor=${page.json.nextCursor}`, { cookie: state.adminCookie });
      assert.ok(Number(next.json.events[0].id) < Number(page.json.events[1].id), 'pages continue');
    });

    test('everyone: GET /api/v1/me/audit is the own sign-in history, paged, without distances', async () => {
      const { cookie } = await signIn('anna', variant(D3[1]!, 21));
      const unauth = await http(r.url, 'GET', '/api/v1/me/audit');
      assert.equal(unauth.status, 401);
      const mine = await http(r.url, 'GET', '/api/v1/me/audit?limit=200', { cookie });
      assert.equal(mine.status, 200, mine.text);
      assert.ok(Value.Check(MyAuditResponse, mine.json), mine.text);
      // exactly anna's login events, as the administrators' log has them
      const all = await http(r.url, 'GET', `/api/v1/admin/audit?limit=200&userId=${state.d3Id}`, { cookie: state.adminCookie });
      const expected = all.json.events
        .filter((e: any) => (SIGN_IN_EVENT_TYPES as readonly string[]).includes(e.type))
        .map((e: any) => e.id);
      assert.deepEqual(
        mine.json.events.map((e: any) => e.id),
        expected,
      );
      const codes = new Set(mine.json.events.map((e: any) => e.code));
      for (const c of [ErrorCode.FACE_MISMATCH, ErrorCode.BACKOFF, ErrorCode.ACCOUNT_LOCKED, null])
        assert.ok(codes.has(c), `history has ${c}`);
      for (const e of mine.json.events) {
        assert.deepEqual(Object.keys(e).sort(), ['at', 'code', 'id', 'ip', 'liveness', 'mode', 'outcome', 'type', 'userAgent']);
      }
      assert.doesNotMatch(mine.text, /distance|obama/i);
      const page = await http(r.url, 'GET', '/api/v1/me/audit?limit=2', { cookie });
      assert.equal(page.json.events.length, 2);
      const next = await http(r.url, 'GET', `/api/v1/me/audit?limit=2&cursor=${page.json.nextCursor}`, { cookie });
      assert.deepEqual(
        next.json.events.map((e: any) => e.id),
        expected.slice(2, 4),
        'pages continue',
      );
      const bad = await http(r.url, 'GET', '/api/v1/me/audit?cursor=x', { cookie });
      assert.equal(bad.json.error.code, ErrorCode.VALIDATION_FAILED);
    });

    test('liveness on after a restart: a recording that blinks when asked enrolls and logs in, a still photo fails, frames never tell a match', async () => {
      await r.stop();
      r = await startReplica(store, vision.url, { liveness: true, adminStepUp: false, challengeSteps: 1, maxMismatchFrames: 3 });
      assert.equal(r.ctx.templates.index.size, 6, 'templates survived the restart');
      const cfg = await http(r.url, 'GET', '/api/v1/config');
      assert.equal(cfg.json.liveness, true);

      // enrollment runs the challenge too
      const clip = d7Blink();
      const reg = await http(r.url, 'POST', '/api/v1/users', { body: { username: 'dora', displayName: 'Dora' } });
      assert.equal(reg.status, 201, reg.text);
      const es = await connect(r.url);
      const enrolled = await performFlow(es, 'enroll', { ticket: reg.json.enrollmentTicket }, clipPerformer(clip));
      es.disconnect();
      assert.ok(enrolled.result?.ok, JSON.stringify(enrolled.result ?? enrolled.started));
      assert.equal((data(enrolled.started as any) as { steps: number }).steps, 1);
      assert.deepEqual(
        enrolled.steps.filter((e) => e.step).map((e) => e.step),
        ['BLINK'],
      );

      // the ticket completed one enrollment and cannot start another
      const again = await connect(r.url);
      assert.equal(errorCode(await ask(again, 'enroll:start', { ticket: reg.json.enrollmentTicket })), ErrorCode.TOKEN_INVALID);
      again.disconnect();

      // a still photo of her, re-encoded for every frame: it holds still, is asked to blink, never does
      const stillFrame = clip.hold[0]!;
      const ss = await connect(r.url);
      const still = await performFlow(ss, 'login', { mode: 'verify', username: 'dora' }, { next: () => stillFrame }, { maxFrames: 80 });
      ss.disconnect();
      const started = data(still.started as any) as LoginStarted;
      assert.equal(started.steps, 1);
      assert.equal(!still.result?.ok && still.result?.error.code, ErrorCode.LIVENESS_FAILED, JSON.stringify(still.result));
      const acks = still.acks.filter((a) => 'data' in (a as object)).map((a) => data(a as any) as LoginFrameResult);
      assert.ok(acks.length > 3);
      for (const a of acks) assert.equal('identityMatched' in a, false, 'no frame answer says whether the face matched');
      assert.ok(
        acks.some((a) => a.feedback.includes(FeedbackCode.HOLD_STILL)),
        'the person is told to hold still first',
      );
      assert.deepEqual(
        still.steps.filter((e) => e.step).map((e) => e.step),
        ['BLINK'],
        'then the step is shown',
      );

      // the same recording, blinking when asked
      const ls = await connect(r.url);
      const live = await performFlow(ls, 'login', { mode: 'verify', username: 'dora' }, clipPerformer(clip));
      ls.disconnect();
      assert.ok(live.result?.ok, JSON.stringify(live.result));
      assert.equal(live.result.liveness, true);
      const s = await http(r.url, 'POST', '/api/v1/sessions', { body: { grant: live.result.grant } });
      assert.equal(s.json.assurance.acr, ACR.FACE_LIVENESS);
      const { payload } = await jwtVerify(s.json.accessToken, createRemoteJWKSet(new URL(`${r.url}/.well-known/jwks.json`)));
      assert.deepEqual(payload.amr, ['face']);
      assert.equal(payload.acr, ACR.FACE_LIVENESS);
      assert.ok(typeof payload.auth_time === 'number');
    });

    test('deleting face data and accounts', async () => {
      const { cookie } = await signIn2('dora');
      const del = await http(r.url, 'DELETE', '/api/v1/me/face', { cookie });
      assert.equal(del.status, 200, del.text);
      assert.equal(del.json.deletedTemplates, 3);
      const again = await login(r.url, { mode: 'verify', username: 'dora' }, [D3[0]!]);
      assert.equal(errorCode(again.started as any), ErrorCode.USER_NOT_FOUND, 'one answer for no account and no face');
      assert.equal(r.ctx.templates.index.size, 6, 'gone from the 1:N index');
      // a signed-in user can enroll again: over the socket with the session cookie, or with a fresh ticket
      const socket = await connect(r.url, { cookie });
      const again2 = data(await ask(socket, 'enroll:start', {})) as { capturesRequired: number };
      assert.equal(again2.capturesRequired, 3);
      data(await ask(socket, 'enroll:cancel'));
      socket.disconnect();
      const ticket = await http(r.url, 'POST', '/api/v1/me/enrollment-ticket', { cookie });
      assert.equal(ticket.status, 200);
      assert.ok(ticket.json.enrollmentTicket.length > 20);
      const gone = await http(r.url, 'DELETE', '/api/v1/me', { cookie });
      assert.equal(gone.status, 204);
      assert.equal((await http(r.url, 'GET', '/api/v1/me', { cookie })).status, 401);
      const { rows } = await r.ctx.db.query<{ n: number }>('SELECT count(*)::int AS n FROM users WHERE username = $1', ['dora']);
      assert.equal(rows[0]!.n, 0);

      const list = await http(r.url, 'GET', '/api/v1/admin/users', { cookie: state.adminCookie });
      const impostor = list.json.users.find((u: any) => u.username === 'not-obama');
      assert.equal((await http(r.url, 'DELETE', `/api/v1/admin/users/${impostor.id}`, { cookie: state.adminCookie })).status, 204);
      assert.equal(
        (await http(r.url, 'DELETE', `/api/v1/admin/users/${impostor.id}`, { cookie: state.adminCookie })).json.error.code,
        ErrorCode.USER_NOT_FOUND,
      );
    });

    /** with liveness on: the recording blinks when asked */
    async function signIn2(username: string): Promise<{ cookie: string }> {
      const socket = await connect(r.url);
      const res = await performFlow(socket, 'login', { mode: 'verify', username }, clipPerformer(d7Blink()));
      socket.disconnect();
      assert.ok(res.result?.ok, JSON.stringify(res.result ?? res.started));
      const s = await http(r.url, 'POST', '/api/v1/sessions', { body: { grant: res.result.grant } });
      return { cookie: cookieHeader(s.setCookies) };
    }
  });
}
