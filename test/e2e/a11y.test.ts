/**
 * axe-core on every screen (first run, unlock, chats, conversation, group,
 * contacts, vault, item, sharing, audit, settings, recovery, linking, and the
 * group dialogs) in light and dark:
 * no serious or critical violation. The screens hold real data (tour.ts).
 */
import { AxeBuilder } from '@axe-core/playwright';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../helpers/chromium.js';
import { showScreen, startTour, UNLOCKED_SCREENS, type Tour } from './tour.js';

async function seriousViolations(page: Page): Promise<string[]> {
  const result = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']).analyze();
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).slice(0, 4).join(' | ')}`);
}

describe.each(['light', 'dark'] as const)('accessibility, %s', (colorScheme) => {
  let browser: Browser;
  let tour: Tour;
  let page: Page;

  beforeAll(async () => {
    tour = await startTour(`a11y-${colorScheme}`);
    browser = await launchChromium();
    page = await tour.alice.open(browser, { colorScheme, viewport: { width: 1280, height: 800 } });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await tour?.close();
  });

  it('first run', async () => {
    const fresh = await tour.fresh.open(browser, { colorScheme });
    await fresh.getByRole('heading', { name: 'Create your identity' }).waitFor();
    expect(await seriousViolations(fresh)).toEqual([]);
  });

  it.each(UNLOCKED_SCREENS)('%s', async (screen) => {
    await showScreen(page, screen);
    expect(await seriousViolations(page)).toEqual([]);
  });

  it('the group dialogs: New group (people ticked) and the people of a group', async () => {
    await showScreen(page, 'chats');
    await page.getByRole('button', { name: 'New conversation' }).first().click();
    await page.getByRole('dialog', { name: 'New conversation' }).getByRole('button', { name: 'New group' }).click();
    const picker = page.getByRole('dialog', { name: 'New group' });
    await picker.getByRole('checkbox', { name: /bob/ }).click();
    await picker.getByRole('checkbox', { name: /bob/, checked: true }).waitFor();
    expect(await seriousViolations(page)).toEqual([]);
    await page.keyboard.press('Escape');
    await picker.waitFor({ state: 'hidden' });
    await showScreen(page, 'group');
    await page.getByRole('button', { name: 'People in bob, carol' }).click();
    await page.getByRole('dialog', { name: 'People in bob, carol' }).getByRole('list', { name: 'People' }).waitFor();
    expect(await seriousViolations(page)).toEqual([]);
    await page.keyboard.press('Escape');
  });

  it('unlock', async () => {
    await showScreen(page, 'unlock');
    expect(await seriousViolations(page)).toEqual([]);
  });
});
