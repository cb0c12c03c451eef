/**
 * Step-up in real Chromium: an administrator adds a passkey on the personal page, signs out,
 * signs in by face, confirms with the passkey, reaches the admin page, and trusts the browser
 * as a kiosk. The passkey lives in Chromium's virtual authenticator (CDP WebAuthn domain, user
 * verification on), the face in a fake camera feed; web, auth and vision are the real services
 * (PGlite in a fresh folder).
 *
 * LIVENESS=false: a face login only needs to happen here (liveness has its own tests), and no
 * feed of the face set reliably completes a random challenge. ADMIN_STEP_UP is on (the
 * default): that is what this test is about.
 *
 * The app is opened at http://localhost:<port>, not 127.0.0.1: a WebAuthn RP ID must be a
 * domain name, and localhost is a secure context without TLS.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser, BrowserContext, CDPSession, Page } from 'playwright-core';
import { requireFaces } from '@faceline/testkit';
import { buildWebApp, startStack, type Stack } from './support/stack.js';
import { launchWithCamera, requireChromium, screenshot, signInWithFace } from './support/browser.js';

const FLOW_TIMEOUT = 120_000;

describe('passkeys and trusted kiosks in Chromium', { timeout: 15 * 60_000 }, () => {
  requireChromium();
  const faces = requireFaces();
  const feed = path.join(faces, 'webcam/anon_lp_d3_woman_480x480.mjpeg');
  const work = mkdtempSync(path.join(tmpdir(), 'faceline-e2e-passkeys-'));
  const username = `grace-${Date.now().toString(36)}`;

  let stack: Stack;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let cdp: CDPSession;
  let authenticatorId: string;

  const fail = (msg: string) => `${msg}\n--- service logs ---\n${stack?.logs() ?? ''}`;
  const api = async (p: string) => {
    const res = await page.request.get(p);
    return { status: res.status(), json: (await res.json().catch(() => null)) as any };
  };

  async function signInByFace(): Promise<void> {
    await signInWithFace(page, username, () => fail(''), FLOW_TIMEOUT);
  }

  before(async () => {
    buildWebApp(path.join(work, 'public'));
    stack = await startStack({ dataDir: path.join(work, 'data'), publicDir: path.join(work, 'public'), env: { LIVENESS: 'false' } });
    browser = await launchWithCamera(feed);
    context = await browser.newContext({
      baseURL: stack.webUrl.replace('127.0.0.1', 'localhost'),
      locale: 'en-US',
      viewport: { width: 1100, height: 900 },
    });
    page = await context.newPage();
    cdp = await context.newCDPSession(page);
    await cdp.send('WebAuthn.enable', { enableUI: false });
    ({ authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: {
        protocol: 'ctap2',
        transport: 'internal',
        hasResidentKey: true,
        hasUserVerification: true,
        isUserVerified: true,
        automaticPresenceSimulation: true,
      },
    }));
  });

  after(async () => {
    await browser?.close().catch(() => undefined);
    await stack?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it('the first administrator registers with the setup link, enrolls, signs in by face, and is told that administration needs a passkey or a trusted kiosk', async () => {
    const setupPath = /"setupPath":"(\/register\?setup=[A-Za-z0-9_-]+)"/.exec(stack.logs())?.[1];
    assert.ok(setupPath, fail('auth logged no setup link'));
    await page.goto(setupPath);
    await page.getByLabel('User name').fill(username);
    await page.getByLabel('Your name').fill('Grace Hopper');
    await page.getByRole('button', { name: 'Continue to face enrollment' }).click();
    await page.waitForURL('**/enroll');
    await page.getByRole('button', { name: 'Start camera' }).click();
    await page
      .getByRole('heading', { name: 'Your face is enrolled' })
      .waitFor({ timeout: FLOW_TIMEOUT })
      .catch((err: unknown) => {
        throw new Error(fail(`enrollment did not finish: ${String(err)}`));
      });

    await signInByFace();
    const me = await api('/api/v1/me');
    assert.equal(me.json.user.role, 'admin', 'the setup link made an administrator');
    assert.equal(me.json.session.role, 'user', 'but this face-only session acts as a user');
    await page.getByRole('link', { name: 'Admin' }).click();
    const box = page.locator('[data-problem="STEP_UP_REQUIRED"]');
    await box.waitFor();
    await box.getByText('Add a passkey on your personal page').waitFor();
    assert.equal(
      await box.getByRole('button', { name: 'Sign in again with my passkey' }).count(),
      0,
      'no passkey yet: nothing to confirm with',
    );
    assert.equal((await api('/api/v1/admin/users')).json.error.code, 'STEP_UP_REQUIRED');
    await screenshot(page, '30-admin-step-up-needed');
  });

  it('adds a passkey on the personal page right after the face sign-in', async () => {
    await page.locator('[data-problem="STEP_UP_REQUIRED"]').getByRole('link', { name: 'Add a passkey' }).click();
    const section = page.locator('section#passkeys');
    await section.getByText('No passkeys yet.').waitFor();
    assert.match(page.url(), /\/me#passkeys$/);
    await section.getByLabel('Name of the new passkey').fill('Test laptop');
    await section.getByRole('button', { name: 'Add a passkey' }).click();
    await section
      .locator('tr[data-passkey="Test laptop"]')
      .waitFor({ timeout: 30_000 })
      .catch(async (err: unknown) => {
        const code = await section
          .locator('[data-problem]')
          .first()
          .getAttribute('data-problem', { timeout: 1000 })
          .catch(() => null);
        throw new Error(fail(`the passkey was not added (problem shown: ${code ?? 'none'}): ${String(err)}`));
      });
    await section.getByText('Passkey added.').waitFor();
    const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
    assert.equal(credentials.length, 1, 'the authenticator holds one credential');
    assert.equal(credentials[0]!.rpId, 'localhost');
    const list = await api('/api/v1/me/passkeys');
    assert.equal(list.json.passkeys.length, 1);
    assert.equal(
      list.json.passkeys[0].id,
      credentials[0]!.credentialId.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, ''),
      'the server stored the same credential',
    );
    await screenshot(page, '31-passkey-added');
  });

  it('signs out, signs in by face, confirms with the passkey and reaches the admin page', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('link', { name: 'Sign in' }).first().waitFor();
    assert.equal((await api('/api/v1/me')).status, 401);
    await signInByFace();
    const me = await api('/api/v1/me');
    assert.equal(me.json.session.acr, 'urn:faceline:acr:mfa', 'face and passkey');
    assert.deepEqual([...me.json.session.amr].sort(), ['face', 'hwk', 'mfa']);
    assert.equal(me.json.session.role, 'admin');
    const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
    assert.ok(credentials[0]!.signCount >= 1, 'the passkey was used');

    await page.getByRole('link', { name: 'Admin' }).click();
    await page.locator(`tr[data-user="${username}"]`).waitFor();
    await page.locator('section', { hasText: 'Audit log' }).getByText('Confirmed with a passkey').first().waitFor();
    await screenshot(page, '32-admin-after-passkey');
  });

  it('trusts this browser as a kiosk: an httpOnly, strict device cookie, listed as this browser', async () => {
    const section = page.locator('section', { has: page.getByRole('heading', { name: 'Kiosks' }) });
    await section.getByText('No trusted kiosks yet.').waitFor();
    await section.getByLabel('Name of this kiosk').fill('Line 4 kiosk');
    await section.getByRole('button', { name: 'Trust this browser as a kiosk' }).click();
    await section.getByText('This browser is now a trusted kiosk.').waitFor();
    const row = section.locator('tr[data-current="true"]');
    await row.waitFor();
    assert.match(await row.innerText(), /Line 4 kiosk/);
    assert.match(await row.innerText(), /this browser/);
    const device = (await context.cookies()).find((c) => c.name === 'faceline_device');
    assert.ok(device, 'the browser holds the device credential');
    assert.equal(device.httpOnly, true, 'scripts cannot read it');
    assert.equal(device.sameSite, 'Strict');
    assert.ok(device.expires > Date.now() / 1000 + 300 * 86_400, 'long-lived');
    assert.equal(await page.evaluate(() => document.cookie.includes('faceline_device')), false);
    const devices = await api('/api/v1/admin/devices');
    assert.deepEqual(
      devices.json.devices.map((d: any) => [d.name, d.current]),
      [['Line 4 kiosk', true]],
    );
    await screenshot(page, '33-kiosk-trusted');
  });
});
