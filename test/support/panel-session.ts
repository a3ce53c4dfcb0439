/**
 * The setup the dashboard panel tests share: the service in-process (startApp) and a headless
 * Chromium, both started before the file's tests and closed after them, and the folder the tests'
 * screenshots go to.
 */
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll } from 'vitest';
import type { Page } from 'playwright-core';
import { startApp, type AppContext } from './app-context.js';
import { openBrowser, type BrowserSession } from './browser.js';

export const RESULTS_DIR = fileURLToPath(new URL('../../test-results/', import.meta.url));

export interface PanelSession {
  app: AppContext;
  browser: BrowserSession;
  page: Page;
}

/** Registers the file's beforeAll/afterAll; the returned object is filled in before the first test. */
export function panelSession(env: Record<string, string>, viewport: { width: number; height: number }): PanelSession {
  const s = {} as PanelSession;
  beforeAll(async () => {
    [s.app, s.browser] = await Promise.all([startApp(env), openBrowser(viewport)]);
    s.page = s.browser.page;
    mkdirSync(RESULTS_DIR, { recursive: true });
  }, 120_000);
  afterAll(async () => {
    await s.browser?.close();
    await s.app?.stop();
  });
  return s;
}
