/**
 * "Sign in with Faceline" end to end: real Chromium with the fake camera, the real web, auth
 * and vision services, and examples/line-dashboard as the relying party (openid-client).
 *
 * The dashboard runs at http://localhost:<port> and Faceline at http://127.0.0.1:<port>: two
 * different sites, so the redirects between them are cross-site as in production and the
 * SameSite=Lax cookies on both sides are really put to the test.
 *
 * Liveness is off (LIVENESS=false): the fake camera plays a recorded clip, which the liveness
 * challenge rejects by design; the ID token's acr says that no challenge was passed.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as client from 'openid-client';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { ACR } from '@faceline/contracts';
import { REPO_ROOT, requireFaces } from '@faceline/testkit';
import { discoveryProblems } from '../../services/auth/test/support/discovery.js';
import { buildWebApp, freePort, startStack, type Stack } from './support/stack.js';
import { launchWithCamera, openPage, requireChromium, screenshot } from './support/browser.js';

const FLOW_TIMEOUT = 120_000;
const SECRET = 'line-dashboard-e2e-secret-0123456789abcdef';

describe('Sign in with Faceline in Chromium', { timeout: 15 * 60_000 }, () => {
  requireChromium();
  const faces = requireFaces();
  const person = path.join(faces, 'webcam/anon_lp_d3_woman_480x480.mjpeg');
  const impostor = path.join(faces, 'webcam/anon_lp_d9_man_glasses_480x480.mjpeg');
  const work = mkdtempSync(path.join(tmpdir(), 'faceline-oidc-e2e-'));
  const publicDir = path.join(work, 'public');
  const username = `ada-${Date.now().toString(36)}`;
  const displayName = 'Ada Lovelace';

  let stack: Stack;
  let dashboard: ChildProcess;
  let dashboardUrl: string;
  let issuer: string;
  let userId: string;
  const dashboardLog: string[] = [];
  const browsers: Browser[] = [];
  let personBrowser: Browser;
  const timings: Record<string, number> = {};

  const fail = (msg: string) =>
    `${msg}\n--- service logs ---\n${stack?.logs() ?? ''}\n--- dashboard ---\n${dashboardLog.slice(-40).join('')}`;

  async function startDashboard(port: number): Promise<void> {
    dashboard = spawn(process.execPath, ['--import', 'tsx', 'examples/line-dashboard/src/server.ts'], {
      cwd: REPO_ROOT,
      env: {
        ...process.env,
        PORT: String(port),
        HOST: '127.0.0.1',
        FACELINE_ISSUER: issuer,
        CLIENT_ID: 'line-dashboard',
        CLIENT_SECRET: SECRET,
        PUBLIC_URL: dashboardUrl,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    dashboard.stdout?.on('data', (d: Buffer) => dashboardLog.push(String(d)));
    dashboard.stderr?.on('data', (d: Buffer) => dashboardLog.push(String(d)));
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      if (dashboard.exitCode !== null) throw new Error(fail(`the dashboard exited with ${dashboard.exitCode}`));
      if (
        await fetch(`http://127.0.0.1:${port}/healthz`).then(
          (r) => r.ok,
          () => false,
        )
      )
        return;
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(fail('the dashboard did not start'));
  }

  /** Clicks through Faceline's sign-in page for the user name (or kiosk) until back on the dashboard. */
  async function faceSignIn(page: Page, opts: { kiosk?: boolean } = {}): Promise<void> {
    await page.waitForURL(`${issuer}/authorize?**`, { timeout: FLOW_TIMEOUT });
    await page.getByRole('heading', { name: 'Sign in to Line dashboard' }).waitFor();
    if (!opts.kiosk) await page.getByLabel('User name').fill(username);
    await page.getByRole('button', { name: 'Sign in with my face' }).click();
    await page.waitForURL(`${dashboardUrl}/`, { timeout: FLOW_TIMEOUT }).catch(async (err: unknown) => {
      const code = await page
        .locator('[data-problem]')
        .first()
        .getAttribute('data-problem', { timeout: 1000 })
        .catch(() => null);
      throw new Error(fail(`did not come back to the dashboard (problem shown: ${code ?? 'none'}, at ${page.url()}): ${String(err)}`));
    });
  }

  before(async () => {
    buildWebApp(publicDir);
    const dashboardPort = await freePort();
    dashboardUrl = `http://localhost:${dashboardPort}`;
    const clients = {
      clients: [
        {
          clientId: 'line-dashboard',
          name: 'Line dashboard',
          clientSecret: SECRET,
          redirectUris: [`${dashboardUrl}/callback`],
          postLogoutRedirectUris: [`${dashboardUrl}/`],
          firstParty: true,
        },
      ],
    };
    stack = await startStack({
      dataDir: path.join(work, 'data'),
      publicDir,
      // administration here is a face login (step-up has its own test: passkeys.test.ts)
      env: { LIVENESS: 'false', ADMIN_STEP_UP: 'false', OIDC_CLIENTS: JSON.stringify(clients) },
      authEnv: ({ webUrl }) => ({ PUBLIC_URL: webUrl }),
    });
    issuer = stack.webUrl;
    await startDashboard(dashboardPort);
    personBrowser = await launchWithCamera(person);
    browsers.push(personBrowser);
  });

  after(async () => {
    await Promise.all(browsers.map((b) => b.close().catch(() => undefined)));
    dashboard?.kill('SIGTERM');
    await stack?.stop();
    rmSync(work, { recursive: true, force: true });
    if (Object.keys(timings).length)
      console.log(
        `  measured: ${Object.entries(timings)
          .map(([k, v]) => `${k} ${(v / 1000).toFixed(2)} s`)
          .join(', ')}`,
      );
  });

  it('publishes a valid discovery document through the web entry point, with the JWKS auth signs with', async () => {
    const doc = (await (await fetch(`${issuer}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
    assert.deepEqual(discoveryProblems(doc, issuer), []);
    const jwks = (await (await fetch(String(doc.jwks_uri))).json()) as { keys: { kid: string }[] };
    assert.ok(jwks.keys.length >= 2);
  });

  it('registers and enrolls the person in Faceline; the admin page lists the dashboard as a registered application', async () => {
    const page = await openPage(personBrowser, issuer);
    // the operator's one-time setup link (auth logged it) makes this first account the administrator
    const setupPath = /"setupPath":"(\/register\?setup=[A-Za-z0-9_-]+)"/.exec(stack.logs())?.[1];
    assert.ok(setupPath, fail('auth logged no setup link'));
    await page.goto(setupPath);
    await page.getByLabel('User name').fill(username);
    await page.getByLabel('Your name').fill(displayName);
    const registered = page.waitForResponse((r) => r.url().endsWith('/api/v1/users') && r.request().method() === 'POST');
    await page.getByRole('button', { name: 'Continue to face enrollment' }).click();
    userId = ((await (await registered).json()) as { user: { id: string } }).user.id;
    await page.waitForURL('**/enroll');
    await page.getByRole('button', { name: 'Start camera' }).click();
    await page
      .getByRole('heading', { name: 'Your face is enrolled' })
      .waitFor({ timeout: FLOW_TIMEOUT })
      .catch((err: unknown) => {
        throw new Error(fail(`enrollment did not finish: ${String(err)}`));
      });
    // the administrator signs in to Faceline itself and looks
    await page.goto(`/login?u=${username}`);
    await page.getByRole('button', { name: 'Sign in with my face' }).click();
    await page.waitForURL('**/me', { timeout: FLOW_TIMEOUT });
    await page.goto('/admin');
    const row = page.locator('tr[data-client="line-dashboard"]');
    await row.waitFor();
    assert.match(await row.innerText(), /Line dashboard[\s\S]*confidential[\s\S]*user name \+ face/);
    assert.match(
      await page.locator('section.oidc-clients').innerText(),
      new RegExp(`${issuer.replace(/[.]/g, '\\.')}/\\.well-known/openid-configuration`),
    );
    await screenshot(page, 'oidc-01-admin-applications');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('link', { name: 'Sign in' }).first().waitFor();
    await page.context().close();
  });

  it('dashboard → Faceline → face login → back with a verified ID token and userinfo; then sign out of both', async () => {
    const page = await openPage(personBrowser, dashboardUrl);
    await page.goto('/');
    await screenshot(page, 'oidc-02-dashboard-signed-out');
    const started = Date.now();
    await page.getByRole('link', { name: 'Sign in with Faceline' }).click();
    await page.getByRole('heading', { name: 'Sign in to Line dashboard' }).waitFor({ timeout: FLOW_TIMEOUT });
    await screenshot(page, 'oidc-03-faceline-sign-in');
    await faceSignIn(page);
    timings['sign-in (dashboard click to dashboard)'] = Date.now() - started;
    await page.getByRole('heading', { name: `Hello, ${displayName}` }).waitFor();
    await screenshot(page, 'oidc-04-dashboard-signed-in');

    const claim = (name: string) => page.locator(`[data-claim="${name}"]`).innerText();
    assert.equal(await claim('sub'), userId, 'sub is the stable user id');
    assert.equal(await claim('preferred_username'), username);
    assert.equal(await claim('name'), displayName);
    assert.equal(await claim('acr'), ACR.FACE, 'liveness was off: acr says no challenge was passed');
    assert.equal(await claim('amr'), '["face"]');
    assert.equal(await claim('groups'), '["admin"]');
    assert.equal(await claim('iss'), issuer);
    assert.ok(Math.abs(Number(await claim('auth_time')) - started / 1000) < 120, 'auth_time is the face login just now');
    assert.match(await page.locator('[data-fact="method"]').innerText(), /face only \(no liveness challenge\)/);
    await page.locator('[data-admin]').waitFor();
    const userinfo = JSON.parse(await page.locator('[data-userinfo]').innerText()) as Record<string, unknown>;
    assert.equal(userinfo.sub, userId);
    assert.equal(userinfo.preferred_username, username);
    // the key that signed the ID token the dashboard verified is in Faceline's JWKS
    const kid = await page.locator('[data-kid]').innerText();
    const jwks = (await (await fetch(`${issuer}/.well-known/jwks.json`)).json()) as { keys: { kid: string; alg: string }[] };
    assert.equal(jwks.keys.find((k) => k.kid === kid)?.alg, 'ES256');
    assert.equal(await page.locator('[data-fact="refresh"]').innerText(), 'yes');
    await page.getByRole('button', { name: 'Renew tokens' }).click();
    await page.locator('[data-fact="refresh"], [data-error]').first().waitFor();
    assert.match(await page.locator('main').innerText(), /renewed/, fail(`renewing the tokens: ${await page.locator('main').innerText()}`));
    // the sign-in page's Faceline session served only the dashboard
    const faceline = await personBrowser.contexts()[0]?.request.get(`${issuer}/api/v1/me`);
    assert.notEqual(faceline?.status(), 200);

    const t0 = Date.now();
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign out?' }).waitFor();
    await screenshot(page, 'oidc-05-faceline-sign-out');
    await page.getByRole('button', { name: 'Yes, sign me out' }).click();
    await page.waitForURL(`${dashboardUrl}/**`);
    await page.getByRole('link', { name: 'Sign in with Faceline' }).waitFor();
    timings['sign-out round trip'] = Date.now() - t0;
    const cookies = await page.context().cookies();
    assert.ok(!cookies.some((c) => c.name === 'dashboard_session' || c.name === 'faceline_oidc_session'), 'no session on either side');
    // Faceline forgot her too: signing in again needs the face
    await page.getByRole('link', { name: 'Sign in with Faceline' }).click();
    await page.waitForURL(`${issuer}/authorize?**`);
    await page.context().close();
  });

  it('kiosk mode: face only, no user name', async () => {
    const page = await openPage(personBrowser, dashboardUrl);
    await page.goto('/');
    await page.getByRole('link', { name: 'Kiosk: face only' }).click();
    await page.getByText('Line dashboard signs in whoever is in front of the camera').waitFor({ timeout: FLOW_TIMEOUT });
    assert.equal(await page.getByLabel('User name').count(), 0);
    await screenshot(page, 'oidc-06-kiosk');
    await faceSignIn(page, { kiosk: true });
    assert.equal(await page.locator('[data-claim="sub"]').innerText(), userId);
    await page.context().close();
  });

  it("another person's face does not sign in: Faceline refuses, the dashboard gets no session, cancelling returns access_denied", async () => {
    const browser = await launchWithCamera(impostor);
    browsers.push(browser);
    const page = await openPage(browser, dashboardUrl);
    await page.goto('/');
    await page.getByRole('link', { name: 'Sign in with Faceline' }).click();
    await page.getByLabel('User name').fill(username);
    await page.getByRole('button', { name: 'Sign in with my face' }).click();
    const problem = page.locator('[data-problem]').first();
    await problem.waitFor({ timeout: FLOW_TIMEOUT });
    assert.equal(await problem.getAttribute('data-problem'), 'FACE_MISMATCH', fail('expected FACE_MISMATCH'));
    assert.ok(page.url().startsWith(`${issuer}/authorize`), 'still at Faceline');
    await screenshot(page, 'oidc-07-other-face');
    await page.getByRole('button', { name: 'Cancel and go back' }).click();
    await page.waitForURL(`${dashboardUrl}/callback?**`);
    assert.equal(await page.locator('[data-error]').getAttribute('data-error'), 'access_denied');
    const home = await page.request.get(`${dashboardUrl}/`);
    assert.match(await home.text(), /Sign in with Faceline/, 'the dashboard has no session');
    await page.context().close();
  });

  it("refuses, each with the protocol's own error: an unregistered redirect_uri, an unregistered client, a missing PKCE verifier, a replayed code", async () => {
    const rp = await client.discovery(new URL(issuer), 'line-dashboard', undefined, client.ClientSecretBasic(SECRET), {
      execute: [client.allowInsecureRequests],
    });
    const context: BrowserContext = await personBrowser.newContext();
    const page = await context.newPage();
    const verifier = client.randomPKCECodeVerifier();
    const params = {
      scope: 'openid profile',
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state: 'e2e-state',
    };

    await page.goto(client.buildAuthorizationUrl(rp, { ...params, redirect_uri: `${dashboardUrl}/elsewhere` }).href);
    assert.equal(await page.locator('main').getAttribute('data-error'), 'invalid_redirect_uri');
    assert.ok(page.url().startsWith(issuer), 'never sent to an unregistered address');
    await screenshot(page, 'oidc-08-wrong-redirect-uri');
    const stranger = client.buildAuthorizationUrl(rp, { ...params, redirect_uri: `${dashboardUrl}/callback` });
    stranger.searchParams.set('client_id', 'not-registered');
    await page.goto(stranger.href);
    assert.equal(await page.locator('main').getAttribute('data-error'), 'invalid_client');
    assert.ok(!(await context.cookies()).some((c) => c.name.startsWith('faceline_oidc')), 'no interaction and no session for either');

    // a real sign-in whose code the test redeems itself (the dashboard did not start this sign-in,
    // so it has nothing pending and leaves the code alone)
    await page.goto(client.buildAuthorizationUrl(rp, { ...params, redirect_uri: `${dashboardUrl}/callback` }).href);
    await page.getByLabel('User name').fill(username);
    await page.getByRole('button', { name: 'Sign in with my face' }).click();
    await page.waitForURL(`${dashboardUrl}/callback?**`, { timeout: FLOW_TIMEOUT });
    assert.equal(await page.locator('[data-error]').getAttribute('data-error'), 'no_pending_sign_in');
    const callback = new URL(page.url());
    assert.ok(callback.searchParams.get('code'));
    const redeem = (checks: client.AuthorizationCodeGrantChecks) =>
      client.authorizationCodeGrant(
        rp,
        callback as URL,
        { expectedState: 'e2e-state', ...checks },
        { redirect_uri: `${dashboardUrl}/callback` },
      );
    await assert.rejects(redeem({}), (e: { error?: string }) => e.error === 'invalid_grant', 'without the PKCE verifier');
    const tokens = await redeem({ pkceCodeVerifier: verifier });
    const { payload } = await jwtVerify(tokens.id_token as string, createRemoteJWKSet(new URL(`${issuer}/.well-known/jwks.json`)), {
      issuer,
      audience: 'line-dashboard',
    });
    assert.equal(payload.sub, userId);
    assert.equal((await client.fetchUserInfo(rp, tokens.access_token, userId)).preferred_username, username);
    await assert.rejects(redeem({ pkceCodeVerifier: verifier }), (e: { error?: string }) => e.error === 'invalid_grant', 'a replayed code');
    // a replay means the code may have been stolen: what it gave is revoked
    await assert.rejects(client.fetchUserInfo(rp, tokens.access_token, userId));
    await context.close();
  });
});
