/**
 * Every screen at the smallest window (420 x 400), a small laptop (800 x 600)
 * and full HD (1920 x 1080): nothing scrolls sideways — neither the page nor
 * the app's own scrolling boxes (tour.ts sidewaysScrollers).
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../helpers/chromium.js';
import { showScreen, sidewaysScrollers, startTour, UNLOCKED_SCREENS, type Tour } from './tour.js';

const SIZES = [
  { width: 420, height: 400 },
  { width: 800, height: 600 },
  { width: 1920, height: 1080 },
];

describe('no sideways scrolling', () => {
  let browser: Browser;
  let tour: Tour;

  beforeAll(async () => {
    tour = await startTour('layout');
    browser = await launchChromium();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await tour?.close();
  });

  it.each(SIZES)('at $width x $height', async (viewport) => {
    const problems: string[] = [];
    const fresh = await tour.fresh.open(browser, { viewport });
    await fresh.getByRole('heading', { name: 'Create your identity' }).waitFor();
    for (const box of await sidewaysScrollers(fresh)) problems.push(`first-run: ${box}`);
    await fresh.context().close();

    const page = await tour.alice.open(browser, { viewport });
    for (const screen of [...UNLOCKED_SCREENS, 'unlock'] as const) {
      await showScreen(page, screen);
      for (const box of await sidewaysScrollers(page)) problems.push(`${screen}: ${box}`);
    }
    await page.context().close();
    expect(problems).toEqual([]);
  });
});
