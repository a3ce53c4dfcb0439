/**
 * A real headless Chromium for the dashboard tests, driven by playwright-core (no browser
 * download: Debian's `chromium` package, which scripts/test.sh installs when it is missing).
 * Page errors and console errors are collected so a test can assert the page ran cleanly.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';

const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/snap/bin/chromium'];

/** Flags for a quiet, offline, container-friendly browser: no sandbox (root), no GPU, no phoning home. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

export function chromiumPath(): string {
  const found = CANDIDATES.find((p) => existsSync(p));
  if (!found) throw new Error(`no Chromium found (looked at ${CANDIDATES.join(', ')}): install it with "apt-get install -y chromium" (npm test does this)`);
  return found;
}

export interface BrowserSession {
  browser: Browser;
  page: Page;
  /** uncaught page exceptions, console.error messages and HTTP errors (with their path), in order */
  errors: string[];
  close(): Promise<void>;
}

export async function openBrowser(viewport = { width: 1280, height: 900 }): Promise<BrowserSession> {
  // playwright-core gives every launch a fresh temporary profile (user data dir) and removes it on close.
  const browser = await chromium.launch({ executablePath: chromiumPath(), headless: true, args: CHROMIUM_ARGS });
  const context = await browser.newContext({ viewport, deviceScaleFactor: 1, locale: 'en-US', timezoneId: 'UTC' });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(`pageerror: ${err.message}`));
  page.on('console', (msg) => {
    // Failed loads are recorded below with their URL; Chromium's console line for them has none.
    if (msg.type() === 'error' && !msg.text().startsWith('Failed to load resource')) errors.push(`console.error: ${msg.text()}`);
  });
  page.on('response', (res) => {
    if (res.status() >= 400) errors.push(`HTTP ${res.status()}: ${res.request().method()} ${new URL(res.url()).pathname}`);
  });
  page.on('requestfailed', (req) => errors.push(`request failed: ${req.method()} ${req.url()}: ${req.failure()?.errorText ?? ''}`));
  return { browser, page, errors, close: () => browser.close() };
}
