/**
 * The shell's keyboard: Ctrl+F focuses the screen's search, Esc closes a
 * dialog and gives focus back to the button that opened it, Ctrl+N opens the
 * new-conversation dialog from another screen, Ctrl+L locks.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../helpers/chromium.js';
import { ensureUnlocked, showScreen, startTour, type Tour } from './tour.js';

describe('keyboard', () => {
  let browser: Browser;
  let tour: Tour;
  let page: Page;

  beforeAll(async () => {
    tour = await startTour('keys');
    browser = await launchChromium();
    page = await tour.alice.open(browser);
    await ensureUnlocked(page);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await tour?.close();
  });

  it('Ctrl+F focuses the search of the screen on show', async () => {
    await showScreen(page, 'vault');
    await page.keyboard.press('Control+f');
    await expect.poll(() => page.evaluate('document.activeElement && document.activeElement.getAttribute("aria-label")')).toBe('Search titles');
  });

  it('Esc closes a dialog and focus returns to the button that opened it', async () => {
    await showScreen(page, 'item');
    const opener = page.getByRole('button', { name: 'Delete…' });
    await opener.focus();
    await page.keyboard.press('Enter');
    const dialog = page.getByRole('dialog', { name: /Delete “Trip plans”/ });
    await dialog.waitFor();
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    await expect.poll(() => page.evaluate('document.activeElement && document.activeElement.textContent')).toContain('Delete…');
  });

  it('Ctrl+N opens the new conversation dialog from another screen', async () => {
    await showScreen(page, 'audit');
    await page.keyboard.press('Control+n');
    const dialog = page.getByRole('dialog');
    await dialog.waitFor();
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
  });

  it('Ctrl+L locks', async () => {
    await page.keyboard.press('Control+l');
    await page.getByRole('heading', { name: 'Unlock Sealpost' }).waitFor();
  });
});
