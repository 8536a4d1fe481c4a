/**
 * `npm run screenshots`: the browser-mode app in real Chromium, two desktops
 * on a local key service with a few messages, an image attachment and a
 * shared note (test/e2e/tour.ts), photographed on every main screen in light
 * and dark at 800x600 and 1920x1080 into docs/screenshots/<screen>-<scheme>-<w>x<h>.png
 * (settings twice: its top, and settings-privacy with the read receipts switch).
 * Run after `npm run build` (the npm script does).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { launchChromium } from '../test/helpers/chromium.js';
import { ROOT } from '../test/e2e/harness.js';
import { showScreen, startTour, type ScreenName } from '../test/e2e/tour.js';

const OUT = join(ROOT, 'docs', 'screenshots');
const SIZES = [
  { width: 800, height: 600 },
  { width: 1920, height: 1080 },
] as const;
const SCHEMES = ['light', 'dark'] as const;
/** In the order a reader meets them; 'unlock' last because it locks the page. */
const SHOTS: Exclude<ScreenName, 'first-run' | 'recovery' | 'linking'>[] = ['chats', 'conversation', 'group', 'contacts', 'vault', 'item', 'sharing', 'audit', 'settings', 'unlock'];

async function shoot(page: Page, name: string): Promise<void> {
  // Let fonts and the last layout settle; the caret would make shots differ run to run.
  await page.evaluate('document.fonts.ready.then(() => document.activeElement && document.activeElement.blur && document.activeElement.blur())');
  const file = join(OUT, `${name}.png`);
  await page.screenshot({ path: file });
  console.log(file);
}

async function main(): Promise<void> {
  // Throwaway profiles with the test harness's cheap PIN KDF (the engine allows it only in tests).
  process.env.NODE_ENV = 'test';
  mkdirSync(OUT, { recursive: true });
  const tour = await startTour('shots');
  const browser = await launchChromium();
  try {
    for (const colorScheme of SCHEMES) {
      for (const viewport of SIZES) {
        const suffix = `${colorScheme}-${viewport.width}x${viewport.height}`;
        const fresh = await tour.fresh.open(browser, { colorScheme, viewport });
        await fresh.getByRole('heading', { name: 'Create your identity' }).waitFor();
        await shoot(fresh, `first-run-${suffix}`);
        await fresh.context().close();

        const page = await tour.alice.open(browser, { colorScheme, viewport });
        for (const screen of SHOTS) {
          await showScreen(page, screen);
          // The unlocked screens show the connection as it is with the push stream open.
          if (screen !== 'unlock') await page.getByTestId('stream-state').filter({ hasText: 'Live' }).waitFor({ state: 'attached', timeout: 60_000 });
          await shoot(page, `${screen}-${suffix}`);
          if (screen === 'settings') {
            // The privacy group too (notification text, read receipts), which the top of the page leaves out.
            await page.getByRole('navigation', { name: 'Settings sections' }).getByRole('link', { name: 'Notifications and privacy' }).click();
            const receipts = page.getByRole('checkbox', { name: 'Send read receipts' });
            await receipts.and(page.locator(':enabled')).waitFor();
            // The jump has scrolled the card's heading into the window.
            await page.waitForFunction(`(() => { const r = document.getElementById('receipts-title').getBoundingClientRect(); return r.top >= 0 && r.bottom <= innerHeight; })()`);
            await shoot(page, `settings-privacy-${suffix}`);
          }
        }
        await page.context().close();
      }
    }
  } finally {
    await browser.close();
    await tour.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
