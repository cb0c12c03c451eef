/**
 * "Sign in with Faceline" against a real database with openid-client as the relying party.
 * The face login itself is not repeated here (the flow suite and the Chromium test cover it):
 * the browser stand-in gets its Faceline session the way the sign-in page does, from a one-time
 * login grant, and the provider is driven over HTTP exactly as a browser would.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { writeFileSync } from 'node:fs';
import * as client from 'openid-client';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { ACR, AUTH_COOKIES, ErrorCode, OIDC_ROUTES } from '@faceline/contracts';
import { loadConfig } from '../../src/config.js';
import { TEST_CLIENT, createStore, faceProof, makeAdmin, type Backend, type Store } from './auth.js';
import { discoveryProblems } from './discovery.js';
import { RP, SECRET, SPA, startOidcReplica, type OidcReplica } from './oidc-replica.js';
import { FakeBrowser } from './oidc-browser.js';

export function oidcSuite(backend: Backend): void {
  describe(`Sign in with Faceline (${backend})`, { timeout: 180_000 }, () => {
    let store: Store;
    let a: OidcReplica;
    let issuer: string;
    let rp: client.Configuration;
    let admin: { id: string; username: string };
    let worker: { id: string; username: string };

    /** The browser's Faceline session, as the sign-in page gets it after a face login. */
    async function faceLogin(
      browser: FakeBrowser,
      user: { id: string },
      opts: { liveness?: boolean; mode?: 'verify' | 'identify'; on?: OidcReplica; trustedDevice?: string } = {},
    ) {
      const on = opts.on ?? a;
      const info = TEST_CLIENT;
      const proof = faceProof(opts.liveness ?? false, opts.trustedDevice ? { trustedDevice: opts.trustedDevice } : {});
      const { grant } = await on.ctx.sessions.issueGrant(user.id, opts.mode ?? 'verify', proof, info);
      const s = await on.ctx.sessions.exchangeGrant(grant, info);
      browser.setCookie(AUTH_COOKIES.access, s.accessToken, '/');
      return s;
    }

    async function rpFor(clientId: string, auth: client.ClientAuth, secret?: string): Promise<client.Configuration> {
      return client.discovery(new URL(issuer), clientId, secret, auth, { execute: [client.allowInsecureRequests] });
    }

    /** Authorization request with PKCE, state and nonce. */
    async function start(config: client.Configuration, extra: Record<string, string> = {}, redirectUri = `${RP}/cb`) {
      const verifier = client.randomPKCECodeVerifier();
      const state = client.randomState();
      const nonce = client.randomNonce();
      const url = client.buildAuthorizationUrl(config, {
        redirect_uri: redirectUri,
        scope: 'openid profile groups',
        code_challenge: await client.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
        state,
        nonce,
        ...extra,
      });
      return { url, verifier, state, nonce, redirectUri };
    }

    /** Drives the browser through the provider: to the sign-in page (returns its uid) or back to the client. */
    async function go(browser: FakeBrowser, url: URL | string): Promise<{ uid?: string; callback?: URL; status: number; body: string }> {
      const hop = await browser.navigate(url);
      const at = new URL(hop.location ?? hop.url);
      if (at.origin !== new URL(issuer).origin) return { callback: at, status: hop.status, body: hop.body };
      if (at.pathname === '/authorize') return { uid: at.searchParams.get('uid') ?? undefined, status: hop.status, body: hop.body };
      return { status: hop.status, body: hop.body };
    }

    async function finishLogin(browser: FakeBrowser, uid: string, on: OidcReplica = a) {
      return browser.request('POST', `${on.url}${OIDC_ROUTES.interactionLogin(uid)}`, { json: {} });
    }

    /** Face login on the sign-in page, finish, back to the client: the callback URL. */
    async function signInThrough(
      browser: FakeBrowser,
      url: URL,
      user: { id: string },
      opts: { liveness?: boolean; mode?: 'verify' | 'identify' } = {},
    ): Promise<URL> {
      const first = await go(browser, url);
      if (first.callback) return first.callback;
      assert.ok(first.uid, `expected the sign-in page, got ${first.status} ${first.body.slice(0, 200)}`);
      await faceLogin(browser, user, opts);
      const done = await finishLogin(browser, first.uid);
      assert.equal(done.status, 200, done.body);
      const next = await go(browser, JSON.parse(done.body).redirectTo as string);
      assert.ok(next.callback, `expected the callback, got ${next.status} ${next.body.slice(0, 300)}`);
      return next.callback;
    }

    before(async () => {
      store = await createStore(backend);
      a = await startOidcReplica(store, undefined);
      issuer = a.url;
      rp = await rpFor('dashboard', client.ClientSecretBasic(SECRET));
      const info = TEST_CLIENT;
      const first = await a.ctx.users.register({ username: 'ada', displayName: 'Ada Lovelace' }, info);
      admin = first.user;
      await makeAdmin(a.ctx, admin.id);
      await a.ctx.users.update(await a.ctx.users.get(admin.id), { profile: { locale: 'de-DE' } }, info);
      worker = (await a.ctx.users.register({ username: 'grace', displayName: 'Grace Hopper' }, info)).user;
    });

    after(async () => {
      await a?.stop();
      await store?.drop();
    });

    it('publishes a discovery document with every field OpenID Connect Discovery requires, and one JWKS', async () => {
      const res = await fetch(`${issuer}${OIDC_ROUTES.discovery}`);
      assert.equal(res.status, 200);
      const doc = (await res.json()) as Record<string, unknown>;
      assert.deepEqual(discoveryProblems(doc, issuer), []);
      // the checklist itself notices what is missing or wrong
      const { jwks_uri: _j, subject_types_supported: _s, ...broken } = doc;
      assert.deepEqual(discoveryProblems({ ...broken, id_token_signing_alg_values_supported: ['ES256'] }, issuer), [
        'jwks_uri missing',
        'subject_types_supported missing',
        'id_token_signing_alg_values_supported must include RS256',
      ]);
      assert.equal(doc.jwks_uri, `${issuer}/.well-known/jwks.json`);
      assert.deepEqual(
        doc.acr_values_supported,
        [ACR.FACE, ACR.FACE_LIVENESS, ACR.TRUSTED_DEVICE, ACR.MFA],
        'weakest first, as the levels order',
      );
      assert.deepEqual(doc.code_challenge_methods_supported, ['S256']);
      for (const claim of ['sub', 'preferred_username', 'name', 'locale', 'groups', 'acr', 'auth_time'])
        assert.ok((doc.claims_supported as string[]).includes(claim), claim);
      const rfc8414 = (await (await fetch(`${issuer}${OIDC_ROUTES.authorizationServerMetadata}`)).json()) as Record<string, unknown>;
      assert.equal(rfc8414.issuer, issuer);
      // the provider's keys are auth's keys: ES256 for everything, RS256 only for relying parties that need it
      const jwks = (await (await fetch(`${issuer}/.well-known/jwks.json`)).json()) as { keys: { kid: string; alg: string; d?: string }[] };
      assert.deepEqual(jwks.keys.map((k) => k.alg).sort(), ['ES256', 'RS256']);
      assert.ok(
        jwks.keys.every((k) => k.d === undefined),
        'no private parts',
      );
      assert.deepEqual(
        a.ctx.tokens
          .providerKeys()
          .map((k) => k.kid)
          .sort(),
        jwks.keys.map((k) => k.kid).sort(),
      );
    });

    it("authorization code + PKCE: face login, ID token verified against the JWKS, userinfo, and the sign-in page's session ends", async () => {
      const browser = new FakeBrowser(issuer);
      const req = await start(rp);
      const first = await go(browser, req.url);
      assert.ok(first.uid, 'no provider session yet: the browser goes to the sign-in page');
      const details = await browser.request('GET', `${issuer}${OIDC_ROUTES.interactionDetails(first.uid)}`);
      assert.equal(details.status, 200, details.body);
      const d = JSON.parse(details.body);
      assert.equal(d.prompt, 'login');
      assert.equal(d.mode, 'verify');
      assert.deepEqual(d.client, { clientId: 'dashboard', name: 'Line dashboard', firstParty: true });
      assert.equal(d.signedIn, null);
      // not signed in yet: the interaction cannot be finished
      const early = await finishLogin(browser, first.uid);
      assert.equal(early.status, 401);
      assert.equal(JSON.parse(early.body).error.code, ErrorCode.UNAUTHENTICATED);

      const session = await faceLogin(browser, admin);
      const done = await finishLogin(browser, first.uid);
      assert.equal(done.status, 200, done.body);
      assert.equal(
        browser.cookie(AUTH_COOKIES.access),
        undefined,
        'the Faceline session made for this sign-in is ended and its cookie cleared',
      );
      const me = await fetch(`${a.url}/api/v1/me`, { headers: { authorization: `Bearer ${session.accessToken}` } });
      assert.equal(me.status, 401);
      const back = await go(browser, JSON.parse(done.body).redirectTo);
      assert.ok(back.callback?.href.startsWith(`${RP}/cb?`), 'first-party: no consent screen');
      assert.equal(back.callback?.searchParams.get('iss'), issuer);

      const started = performance.now();
      const tokens = await client.authorizationCodeGrant(rp, back.callback as URL, {
        pkceCodeVerifier: req.verifier,
        expectedState: req.state,
        expectedNonce: req.nonce,
      });
      const tokenMs = performance.now() - started;
      assert.equal(tokens.token_type.toLowerCase(), 'bearer');
      assert.ok(tokens.refresh_token, 'a first-party client gets a refresh token (bound to the sign-in) without offline_access');
      const { payload, protectedHeader } = await jwtVerify(
        tokens.id_token as string,
        createRemoteJWKSet(new URL(`${issuer}/.well-known/jwks.json`)),
        { issuer, audience: 'dashboard' },
      );
      assert.equal(protectedHeader.alg, 'ES256');
      assert.equal(payload.sub, admin.id, 'sub is the stable user id, not the user name');
      assert.equal(payload.preferred_username, 'ada');
      assert.equal(payload.name, 'Ada Lovelace');
      assert.equal(payload.locale, 'de-DE');
      assert.deepEqual(payload.groups, ['admin']);
      assert.equal(payload.acr, ACR.FACE, 'no liveness challenge: acr says so');
      assert.deepEqual(payload.amr, ['face']);
      assert.equal(payload.auth_time, Math.floor(Date.parse(session.session.createdAt) / 1000));
      assert.equal(payload.nonce, req.nonce);
      const info = await client.fetchUserInfo(rp, tokens.access_token, admin.id);
      assert.equal(info.preferred_username, 'ada');
      assert.deepEqual(info.groups, ['admin']);
      const audit = await a.ctx.users.auditLog({ limit: 5, type: 'oidc.signed_in' });
      assert.equal(audit.events[0]?.userId, admin.id);
      assert.deepEqual(audit.events[0]?.details, { clientId: 'dashboard', acr: ACR.FACE });
      console.log(`  token endpoint (code exchange, PKCE, client_secret_basic): ${tokenMs.toFixed(1)} ms`);
    });

    it('single sign-on between clients, but prompt=login and max_age insist on a new face login', async () => {
      const browser = new FakeBrowser(issuer);
      const old = await faceLogin(browser, admin);
      await new Promise((r) => setTimeout(r, 1100)); // her last face login is older than the requests below
      await signInThrough(browser, (await start(rp)).url, admin);
      // the provider remembers her: a second request goes straight back
      const again = await go(browser, (await start(rp)).url);
      assert.ok(again.callback?.searchParams.get('code'), 'single sign-on: no interaction');

      browser.setCookie(AUTH_COOKIES.access, old.accessToken);
      for (const extra of [{ prompt: 'login' }, { max_age: '0' }] as Record<string, string>[]) {
        const req = await start(rp, extra);
        const first = await go(browser, req.url);
        assert.ok(first.uid, `${JSON.stringify(extra)}: asks for the person again`);
        const d = JSON.parse((await browser.request('GET', `${issuer}${OIDC_ROUTES.interactionDetails(first.uid)}`)).body);
        assert.equal(d.freshLogin, true);
        assert.equal(d.signedIn, null, 'an older Faceline session does not count');
        const stale = await finishLogin(browser, first.uid);
        assert.equal(stale.status, 401);
        assert.equal(JSON.parse(stale.body).error.code, ErrorCode.FRESH_LOGIN_REQUIRED);
        await new Promise((r) => setTimeout(r, 1100)); // a face login that is visibly newer
        const fresh = await faceLogin(browser, admin);
        const ok = await finishLogin(browser, first.uid);
        assert.equal(ok.status, 200, ok.body);
        const back = await go(browser, JSON.parse(ok.body).redirectTo);
        const tokens = await client.authorizationCodeGrant(rp, back.callback as URL, {
          pkceCodeVerifier: req.verifier,
          expectedState: req.state,
          expectedNonce: req.nonce,
        });
        assert.equal(tokens.claims()?.auth_time, Math.floor(Date.parse(fresh.session.createdAt) / 1000));
        browser.setCookie(AUTH_COOKIES.access, old.accessToken);
      }
    });

    it('an existing, recent Faceline session may finish the interaction without a new scan (and stays)', async () => {
      const browser = new FakeBrowser(issuer);
      const session = await faceLogin(browser, worker, { liveness: true });
      await new Promise((r) => setTimeout(r, 1100)); // signed in to Faceline before the application asked
      const req = await start(rp);
      const first = await go(browser, req.url);
      assert.ok(first.uid);
      const d = JSON.parse((await browser.request('GET', `${issuer}${OIDC_ROUTES.interactionDetails(first.uid)}`)).body);
      assert.equal(d.freshLogin, false);
      assert.equal(d.signedIn.username, 'grace');
      const ok = await finishLogin(browser, first.uid);
      assert.equal(ok.status, 200, ok.body);
      assert.equal(browser.cookie(AUTH_COOKIES.access), session.accessToken, 'a session she had before stays');
      const back = await go(browser, JSON.parse(ok.body).redirectTo);
      const tokens = await client.authorizationCodeGrant(rp, back.callback as URL, {
        pkceCodeVerifier: req.verifier,
        expectedState: req.state,
        expectedNonce: req.nonce,
      });
      const claims = tokens.claims();
      assert.equal(claims?.sub, worker.id);
      assert.equal(claims?.acr, ACR.FACE_LIVENESS, 'the face login passed a liveness challenge');
      assert.deepEqual(claims?.groups, []);
    });

    it('refresh tokens with offline_access rotate; introspection and revocation', async () => {
      const browser = new FakeBrowser(issuer);
      const req = await start(rp, { scope: 'openid profile offline_access', prompt: 'consent' });
      const cb = await signInThrough(browser, req.url, worker);
      const tokens = await client.authorizationCodeGrant(rp, cb, {
        pkceCodeVerifier: req.verifier,
        expectedState: req.state,
        expectedNonce: req.nonce,
      });
      assert.ok(tokens.refresh_token, 'offline_access with prompt=consent gives a refresh token');
      const active = await client.tokenIntrospection(rp, tokens.access_token);
      assert.equal(active.active, true);
      assert.equal(active.sub, worker.id);
      assert.equal(active.client_id, 'dashboard');
      const renewed = await client.refreshTokenGrant(rp, tokens.refresh_token as string);
      assert.ok(
        renewed.access_token && renewed.refresh_token && renewed.refresh_token !== tokens.refresh_token,
        'the refresh token rotates',
      );
      const consumed = await a.ctx.db.query(`SELECT 1 FROM oidc_payloads WHERE model = 'RefreshToken' AND consumed_at IS NOT NULL`);
      assert.ok(consumed.rows.length >= 1, 'the rotated refresh token is kept, marked consumed');
      await assert.rejects(
        client.refreshTokenGrant(rp, tokens.refresh_token as string),
        (err: { error?: string }) => err.error === 'invalid_grant',
        'a used refresh token does not work twice',
      );
      await client.tokenRevocation(rp, renewed.access_token);
      assert.equal((await client.tokenIntrospection(rp, renewed.access_token)).active, false);
    });

    it('a public client: PKCE is required, the person consents, then the code is exchanged without a secret; cancelling gives access_denied', async () => {
      const spa = await rpFor('spa', client.None());
      const browser = new FakeBrowser(issuer);
      const noPkce = new URL(client.buildAuthorizationUrl(spa, { redirect_uri: `${SPA}/cb`, scope: 'openid', state: 's1' }));
      const refused = await go(browser, noPkce);
      assert.equal(refused.callback?.searchParams.get('error'), 'invalid_request');
      assert.match(refused.callback?.searchParams.get('error_description') ?? '', /PKCE/);

      const req = await start(spa, {}, `${SPA}/cb`);
      const first = await go(browser, req.url);
      assert.ok(first.uid);
      await faceLogin(browser, worker);
      const loggedIn = await finishLogin(browser, first.uid);
      const consent = await go(browser, JSON.parse(loggedIn.body).redirectTo);
      assert.ok(consent.uid, 'a third-party client needs consent');
      const d = JSON.parse((await browser.request('GET', `${issuer}${OIDC_ROUTES.interactionDetails(consent.uid)}`)).body);
      assert.equal(d.prompt, 'consent');
      assert.deepEqual(d.scopes, ['openid', 'profile', 'groups']);
      assert.equal(d.client.firstParty, false);
      const allowed = await browser.request('POST', `${issuer}${OIDC_ROUTES.interactionConsent(consent.uid)}`, { json: {} });
      assert.equal(allowed.status, 200, allowed.body);
      const back = await go(browser, JSON.parse(allowed.body).redirectTo);
      const tokens = await client.authorizationCodeGrant(spa, back.callback as URL, {
        pkceCodeVerifier: req.verifier,
        expectedState: req.state,
        expectedNonce: req.nonce,
      });
      assert.equal(tokens.claims()?.sub, worker.id);
      assert.equal(tokens.refresh_token, undefined, 'a third-party client without offline_access gets no refresh token');

      const other = new FakeBrowser(issuer);
      const req2 = await start(spa, {}, `${SPA}/cb`);
      const first2 = await go(other, req2.url);
      const cancelled = await other.request('POST', `${issuer}${OIDC_ROUTES.interactionAbort(first2.uid as string)}`, { json: {} });
      const denied = await go(other, JSON.parse(cancelled.body).redirectTo);
      assert.equal(denied.callback?.searchParams.get('error'), 'access_denied');
    });

    it("refuses, with the protocol's own errors and no session: a wrong redirect_uri, an unregistered client, a missing PKCE verifier, a replayed code, a wrong secret", async () => {
      const browser = new FakeBrowser(issuer);
      const wrong = await start(rp, {}, `${RP}/elsewhere`);
      const page = await browser.navigate(wrong.url);
      assert.equal(page.status, 400);
      assert.match(page.body, /data-error="invalid_redirect_uri"/);
      assert.equal(page.location, undefined, 'never redirected to an unregistered address');

      const stranger = new URL(wrong.url);
      stranger.searchParams.set('client_id', 'not-registered');
      stranger.searchParams.set('redirect_uri', `${RP}/cb`);
      const unknown = await browser.navigate(stranger);
      assert.equal(unknown.status, 400);
      assert.match(unknown.body, /data-error="invalid_client"/);
      assert.equal(browser.cookie('faceline_oidc_interaction'), undefined, 'no interaction was started for either');

      const req = await start(rp);
      const cb = await signInThrough(browser, req.url, admin);
      await assert.rejects(
        client.authorizationCodeGrant(rp, cb, { expectedState: req.state, expectedNonce: req.nonce }),
        (err: { error?: string }) => err.error === 'invalid_grant',
        'the code was bound to a PKCE challenge: without the verifier it is refused',
      );
      const req2 = await start(rp);
      const cb2 = await go(browser, req2.url);
      const first = await client.authorizationCodeGrant(rp, cb2.callback as URL, {
        pkceCodeVerifier: req2.verifier,
        expectedState: req2.state,
        expectedNonce: req2.nonce,
      });
      await assert.rejects(
        client.authorizationCodeGrant(rp, cb2.callback as URL, {
          pkceCodeVerifier: req2.verifier,
          expectedState: req2.state,
          expectedNonce: req2.nonce,
        }),
        (err: { error?: string }) => err.error === 'invalid_grant',
        'a code works once',
      );
      // a replayed code revokes what the first exchange gave (the code may have been stolen)
      await assert.rejects(client.fetchUserInfo(rp, first.access_token, admin.id));

      const liar = await rpFor('dashboard', client.ClientSecretBasic('x'.repeat(40)));
      const req3 = await start(liar);
      const cb3 = await go(browser, req3.url);
      await assert.rejects(
        client.authorizationCodeGrant(liar, cb3.callback as URL, {
          pkceCodeVerifier: req3.verifier,
          expectedState: req3.state,
          expectedNonce: req3.nonce,
        }),
        (err: { error?: string; cause?: { parameters?: { error?: string } }[] }) =>
          (err.error ?? err.cause?.[0]?.parameters?.error) === 'invalid_client',
      );
    });

    it('kiosk clients (loginMode identify) always need the face in front of the camera now, and leave no session behind', async () => {
      const hmi = await rpFor('hmi', client.ClientSecretBasic(SECRET));
      const browser = new FakeBrowser(issuer);
      await signInThrough(browser, (await start(rp)).url, admin);
      const old = await faceLogin(browser, admin, { mode: 'identify' });
      await new Promise((r) => setTimeout(r, 1100));
      const req = await start(hmi, {}, `${RP}/hmi`);
      const first = await go(browser, req.url);
      assert.ok(first.uid, 'even with a provider session the kiosk asks for the face');
      const d = JSON.parse((await browser.request('GET', `${issuer}${OIDC_ROUTES.interactionDetails(first.uid)}`)).body);
      assert.equal(d.mode, 'identify');
      assert.equal(d.freshLogin, true);
      assert.equal(JSON.parse((await finishLogin(browser, first.uid)).body).error.code, ErrorCode.FRESH_LOGIN_REQUIRED);
      void old;
      await faceLogin(browser, worker, { mode: 'identify' });
      const ok = await finishLogin(browser, first.uid);
      assert.equal(ok.status, 200);
      assert.equal(browser.cookie(AUTH_COOKIES.access), undefined);
      const back = await go(browser, JSON.parse(ok.body).redirectTo);
      assert.ok(back.callback, `back to the client, not ${back.status} ${back.uid ?? ''} ${back.body.slice(0, 400)}`);
      const tokens = await client.authorizationCodeGrant(hmi, back.callback as URL, {
        pkceCodeVerifier: req.verifier,
        expectedState: req.state,
        expectedNonce: req.nonce,
      });
      assert.equal(tokens.claims()?.sub, worker.id, 'the person at the terminal now, not the one before');
      // a client may also ask for the kiosk itself, and nothing else
      const bad = await go(new FakeBrowser(issuer), (await start(rp, { faceline_mode: 'everyone' })).url);
      assert.equal(bad.callback?.searchParams.get('error'), 'invalid_request');
    });

    it('an essential acr the face login did not reach ends with unmet_authentication_requirements', async () => {
      const browser = new FakeBrowser(issuer);
      const req = await start(rp, { claims: JSON.stringify({ id_token: { acr: { essential: true, values: [ACR.FACE_LIVENESS] } } }) });
      const first = await go(browser, req.url);
      await faceLogin(browser, admin, { liveness: false });
      const res = await finishLogin(browser, first.uid as string);
      const back = await go(browser, JSON.parse(res.body).redirectTo);
      assert.equal(back.callback?.searchParams.get('error'), 'unmet_authentication_requirements');
    });

    it('a login at a trusted kiosk meets an essential face-liveness acr: that value in the ID token, amr says kiosk, auth_time the login', async () => {
      const browser = new FakeBrowser(issuer);
      const req = await start(rp, { claims: JSON.stringify({ id_token: { acr: { essential: true, values: [ACR.FACE_LIVENESS] } } }) });
      const first = await go(browser, req.url);
      const before = Math.floor(Date.now() / 1000);
      await faceLogin(browser, worker, { liveness: true, trustedDevice: '00000000-0000-4000-8000-0000000c10c1' });
      const res = await finishLogin(browser, first.uid as string);
      assert.equal(res.status, 200, res.body);
      const back = await go(browser, JSON.parse(res.body).redirectTo);
      assert.ok(back.callback, `expected the callback, got ${back.status} ${back.body.slice(0, 300)}`);
      assert.equal(back.callback.searchParams.get('error'), null);
      const tokens = await client.authorizationCodeGrant(rp, back.callback, {
        pkceCodeVerifier: req.verifier,
        expectedState: req.state,
        expectedNonce: req.nonce,
      });
      const claims = tokens.claims();
      assert.equal(claims?.acr, ACR.FACE_LIVENESS, 'an essential acr is answered with the requested value it met');
      assert.deepEqual(claims?.amr, ['face', 'kiosk']);
      assert.ok(Number(claims?.auth_time) >= before - 1, 'auth_time is when the face was shown');
    });

    it('RS256 for a relying party that needs it, client_secret_post, no refresh tokens when refreshTokens is false', async () => {
      const legacy = await rpFor('legacy', client.ClientSecretPost(SECRET), SECRET);
      const browser = new FakeBrowser(issuer);
      const req = await start(legacy, { scope: 'openid offline_access', prompt: 'consent' }, `${RP}/legacy`);
      const cb = await signInThrough(browser, req.url, admin);
      const tokens = await client.authorizationCodeGrant(legacy, cb, {
        pkceCodeVerifier: req.verifier,
        expectedState: req.state,
        expectedNonce: req.nonce,
      });
      assert.equal(decodeProtectedHeader(tokens.id_token as string).alg, 'RS256');
      await jwtVerify(tokens.id_token as string, createRemoteJWKSet(new URL(`${issuer}/.well-known/jwks.json`)), {
        issuer,
        audience: 'legacy',
      });
      assert.equal(tokens.refresh_token, undefined);
    });

    it('RP-initiated logout ends the provider session and the tokens it gave', async () => {
      const browser = new FakeBrowser(issuer);
      const req = await start(rp);
      const cb = await signInThrough(browser, req.url, worker);
      const tokens = await client.authorizationCodeGrant(rp, cb, {
        pkceCodeVerifier: req.verifier,
        expectedState: req.state,
        expectedNonce: req.nonce,
      });
      const web = await faceLogin(browser, worker); // also signed in to Faceline's own app in this browser
      const end = client.buildEndSessionUrl(rp, {
        id_token_hint: tokens.id_token as string,
        post_logout_redirect_uri: `${RP}/bye`,
        state: 'bye-1',
      });
      const question = await browser.navigate(end);
      assert.equal(question.status, 200);
      assert.match(question.body, /Sign out of Faceline and Line dashboard/);
      const xsrf = /name="xsrf" value="([^"]+)"/.exec(question.body)?.[1];
      const action = /action="([^"]+)"/.exec(question.body)?.[1];
      assert.ok(xsrf && action);
      const confirmed = await browser.request('POST', action, { form: { xsrf, logout: 'yes' } });
      assert.equal(confirmed.status, 303);
      assert.equal(confirmed.location, `${RP}/bye?state=bye-1`);
      assert.equal(browser.cookie('faceline_oidc_session'), undefined);
      assert.equal(browser.cookie(AUTH_COOKIES.access), undefined, 'the Faceline app session of this browser ended too');
      assert.equal((await fetch(`${a.url}/api/v1/me`, { headers: { authorization: `Bearer ${web.accessToken}` } })).status, 401);
      await assert.rejects(client.fetchUserInfo(rp, tokens.access_token, worker.id), 'the access token died with the session');
      await assert.rejects(
        client.refreshTokenGrant(rp, tokens.refresh_token as string),
        (err: { error?: string }) => err.error === 'invalid_grant',
        'so did the refresh token (no offline_access)',
      );
      const silent = await go(browser, (await start(rp, { prompt: 'none' })).url);
      assert.equal(silent.callback?.searchParams.get('error'), 'login_required');
    });

    it('state lives in the database: expired rows are invisible at once and purged later', async () => {
      const repo = a.ctx.db;
      await repo.query(
        `INSERT INTO oidc_payloads (model, id, payload, expires_at) VALUES ('AccessToken', 'old-1', '{}'::jsonb, now() - interval '2 hours'), ('AccessToken', 'new-1', '{}'::jsonb, now() + interval '1 hour')`,
      );
      const count = async () =>
        Number((await repo.query<{ n: number }>(`SELECT count(*)::int AS n FROM oidc_payloads WHERE id IN ('old-1', 'new-1')`)).rows[0]?.n);
      assert.equal(await count(), 2);
      assert.ok(((await a.ctx.oidc?.purgeExpired()) as number) >= 1);
      assert.equal(await count(), 1);
      await go(new FakeBrowser(issuer), (await start(rp)).url); // an interaction waiting for its person
      const kinds = (await repo.query<{ model: string }>('SELECT DISTINCT model FROM oidc_payloads')).rows.map((r) => r.model);
      for (const m of ['Session', 'Grant', 'AuthorizationCode', 'AccessToken', 'Interaction'])
        assert.ok(kinds.includes(m), `${m} rows are stored`);
    });

    it('administrators see the registered clients, without secrets; others may not', async () => {
      const adminSession = await faceLogin(new FakeBrowser(issuer), admin);
      const res = await fetch(`${a.url}${OIDC_ROUTES.adminClients}`, { headers: { authorization: `Bearer ${adminSession.accessToken}` } });
      assert.equal(res.status, 200);
      const body = (await res.json()) as {
        enabled: boolean;
        issuer: string;
        discoveryUrl: string;
        clients: { clientId: string; type: string; pkceRequired: boolean; loginMode: string }[];
      };
      assert.equal(body.enabled, true);
      assert.equal(body.discoveryUrl, `${issuer}/.well-known/openid-configuration`);
      assert.deepEqual(
        body.clients.map((c) => c.clientId),
        ['dashboard', 'spa', 'hmi', 'legacy'],
      );
      assert.equal(body.clients.find((c) => c.clientId === 'spa')?.pkceRequired, true);
      assert.equal(body.clients.find((c) => c.clientId === 'hmi')?.loginMode, 'identify');
      assert.ok(!JSON.stringify(body).includes(SECRET), 'secrets are never shown');
      const workerSession = await faceLogin(new FakeBrowser(issuer), worker);
      assert.equal(
        (await fetch(`${a.url}${OIDC_ROUTES.adminClients}`, { headers: { authorization: `Bearer ${workerSession.accessToken}` } })).status,
        403,
      );
    });

    if (backend === 'postgres') {
      it('a second replica continues a flow the first one started, and follows a key rotation without a restart', async () => {
        const b = await startOidcReplica(store, issuer);
        try {
          const browser = new FakeBrowser(issuer);
          const req = await start(rp);
          const first = await go(browser, req.url); // replica A
          assert.ok(first.uid);
          await faceLogin(browser, admin, { on: b });
          const done = await finishLogin(browser, first.uid, b); // replica B finishes A's interaction
          assert.equal(done.status, 200, done.body);
          const resume = new URL(JSON.parse(done.body).redirectTo);
          const back = await go(browser, `${b.url}${resume.pathname}${resume.search}`);
          assert.ok(back.callback, back.body.slice(0, 300));
          const bRp = await client.discovery(new URL(issuer), 'dashboard', undefined, client.ClientSecretBasic(SECRET), {
            execute: [client.allowInsecureRequests],
          });
          const tokens = await client.authorizationCodeGrant(bRp, back.callback as URL, {
            pkceCodeVerifier: req.verifier,
            expectedState: req.state,
            expectedNonce: req.nonce,
          });
          const oldKid = decodeProtectedHeader(tokens.id_token as string).kid;

          // A's ES256 key reaches the end of its signing period; A creates the next one
          await a.ctx.db.query(`UPDATE signing_keys SET retire_at = now() WHERE alg = 'ES256'`);
          await a.ctx.tokens.ensureCurrentKey();
          const req2 = await start(rp, { prompt: 'login' });
          const cb2 = await signInThrough(browser, req2.url, admin);
          const rotated = await client.authorizationCodeGrant(rp, cb2, {
            pkceCodeVerifier: req2.verifier,
            expectedState: req2.state,
            expectedNonce: req2.nonce,
          });
          const newKid = decodeProtectedHeader(rotated.id_token as string).kid;
          assert.notEqual(newKid, oldKid, 'the provider on A signs with the new key, without a restart');
          const jwks = (await (await fetch(`${a.url}/.well-known/jwks.json`)).json()) as { keys: { kid: string }[] };
          assert.ok(jwks.keys.some((k) => k.kid === newKid) && jwks.keys.some((k) => k.kid === oldKid), 'both keys are published');

          // B has not loaded the new key: a logout there with the new ID token makes it reload
          await new Promise((r) => setTimeout(r, 1100));
          const end = client.buildEndSessionUrl(rp, { id_token_hint: rotated.id_token as string, post_logout_redirect_uri: `${RP}/bye` });
          const question = await browser.navigate(`${b.url}${end.pathname}${end.search}`);
          assert.equal(question.status, 200, question.body.slice(0, 400));
          assert.match(question.body, /op\.logoutForm/);
          assert.ok(b.ctx.tokens.providerKeys().some((k) => k.kid === newKid));
        } finally {
          await b.stop();
        }
      });
    }

    it('OIDC_CLIENTS_FILE in YAML; mistakes are all reported at start', () => {
      const dir = mkdtempSync(path.join(tmpdir(), 'faceline-oidc-'));
      const file = path.join(dir, 'clients.yaml');
      writeFileSync(
        file,
        `clients:\n  - clientId: grafana\n    clientSecret: "${'s'.repeat(40)}"\n    redirectUris: [https://grafana.example.com/login/generic_oauth]\n    firstParty: true\n`,
      );
      const ok = loadConfig({ PUBLIC_URL: 'https://faceline.example.com', OIDC_CLIENTS_FILE: file });
      assert.equal(ok.oidc, true);
      assert.equal(ok.oidcClients[0]?.clientId, 'grafana');
      writeFileSync(
        file,
        `clients:\n  - clientId: a\n    redirectUris: [not-a-url]\n  - clientId: b\n    public: true\n    clientSecret: short\n    redirectUris: [https://b.example.com/cb#x]\n`,
      );
      assert.throws(
        () =>
          loadConfig({
            PUBLIC_URL: 'https://faceline.example.com',
            OIDC_CLIENTS_FILE: file,
            OIDC_CLIENTS: JSON.stringify({ clients: [{ clientId: 'a', public: true, redirectUris: ['https://a.example.com/cb'] }] }),
          }),
        (err: Error) =>
          /clients\[0\] \(a\)/.test(err.message) &&
          /not an absolute URL/.test(err.message) &&
          /clients\[1\] \(b\)/.test(err.message) &&
          /registered twice/.test(err.message),
      );
      assert.equal(loadConfig({}).oidc, false, 'without PUBLIC_URL there is no issuer: off');
      assert.throws(() => loadConfig({ OIDC: 'true' }), /PUBLIC_URL/);
    });
  });
}
