/** Debian's Chromium driven by playwright-core, with a fake camera (one launch per feed: it is a launch flag). */
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { REPO_ROOT } from '@faceline/testkit';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const SCREENSHOTS = path.join(REPO_ROOT, 'artifacts', 'screenshots');

const BASE_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

export function requireChromium(): void {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Chromium not found at ${CHROMIUM}: run scripts/system-deps.sh (apt install chromium) or set CHROMIUM_PATH.`);
  }
}

/**
 * camera: a feed file for the fake camera, or 'denied' for a browser that refuses camera access.
 */
export async function launchWithCamera(camera: string | 'denied'): Promise<Browser> {
  requireChromium();
  const args =
    camera === 'denied'
      ? [...BASE_FLAGS, '--use-fake-device-for-media-stream', '--deny-permission-prompts']
      : [
          ...BASE_FLAGS,
          '--use-fake-device-for-media-stream',
          '--use-fake-ui-for-media-stream',
          `--use-file-for-fake-video-capture=${camera}`,
        ];
  return chromium.launch({ executablePath: CHROMIUM, args });
}

export async function openPage(
  browser: Browser,
  baseURL: string,
  opts: { locale?: string; viewport?: { width: number; height: number } } = {},
): Promise<Page> {
  const context = await browser.newContext({
    baseURL,
    locale: opts.locale ?? 'en-US',
    viewport: opts.viewport ?? { width: 1100, height: 900 },
  });
  return context.newPage();
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

/**
 * Signs `username` in by face from the login page and waits for the personal page; on failure the
 * error names the problem the page shows, followed by `context()` (the services' logs).
 */
export async function signInWithFace(page: Page, username: string, context: () => string, timeout = 120_000): Promise<void> {
  await page.goto(`/login?u=${username}`);
  await page.getByRole('button', { name: 'Sign in with my face' }).click();
  await page.waitForURL('**/me', { timeout }).catch(async (err: unknown) => {
    const code = await page
      .locator('[data-problem]')
      .first()
      .getAttribute('data-problem', { timeout: 1000 })
      .catch(() => null);
    throw new Error(`sign-in did not reach /me (problem shown: ${code ?? 'none'}): ${String(err)}\n${context()}`);
  });
  await page.getByRole('heading', { name: 'My page' }).waitFor();
}
