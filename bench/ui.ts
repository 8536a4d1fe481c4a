/**
 * ui_10k (issue 15): the desktop UI with 10,000 messages in one conversation,
 * in browser mode (the real webhost and engine, the built renderer) in Chromium.
 *
 * - The profile: alice (PIN, the test KDF so unlocking costs the UI, not scrypt;
 *   the `unlock` entry measures the KDF) and 10,000 messages from bob, real
 *   envelopes sealed by a second profile and stored through the vault's calls in
 *   one transaction, as a receive stores them (test/helpers/seed-conversation.ts).
 *   The newest two are unread.
 * - list_ms: from the unlock (the engine's answer to session:authenticate
 *   reaching the page) to the conversation list painted (the first frame after
 *   bob's row is in the DOM), timed in the page; list_from_click_ms adds the
 *   unlock itself (the click on Unlock, the PIN check, the keys derived).
 * - value: from the click on bob's conversation to its newest message painted.
 * - heap_mb: the renderer's JS heap (CDP Runtime.getHeapUsage after a forced
 *   GC) after scrolling the conversation up to its first message, which pages
 *   all 10,000 in from the engine (50 per messages:list call).
 * Rounds: the whole sequence in a new browser context per round; medians.
 *
 * The UI is the renderer in out/renderer, rebuilt (electron-vite) when a file
 * under renderer/ is newer than it.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { TEST_KDF_PARAMS } from '../electron/engine/crypto/pin-kdf.js';
import { dispatch } from '../electron/engine/dispatch.js';
import { openService, type Service } from '../electron/engine/service/index.js';
import { startWebhost } from '../electron/webhost/server.js';
import { launchChromium } from '../test/helpers/chromium.js';
import { markUnread, seedConversation } from '../test/helpers/seed-conversation.js';
import { type BenchEntry, round } from './results.js';

const MESSAGES = 10_000;
const ROUNDS = 3;
const PIN = '2468';
const ROOT = path.resolve(import.meta.dirname, import.meta.url.includes('/dist/bench/') ? '../..' : '..');
const RENDERER_DIR = path.join(ROOT, 'out', 'renderer');

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function newestMtime(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

/** Builds the renderer when the sources are newer than the build. */
function ensureBuiltUi(): void {
  const index = path.join(RENDERER_DIR, 'index.html');
  if (existsSync(index) && statSync(index).mtimeMs >= newestMtime(path.join(ROOT, 'renderer'))) return;
  process.stderr.write('bench ui: building the renderer (electron-vite build)...\n');
  execFileSync(path.join(ROOT, 'node_modules', '.bin', 'electron-vite'), ['build'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
}

async function ok(service: Service, channel: Parameters<typeof dispatch>[1], input: unknown): Promise<void> {
  const r = await dispatch(service.handlers, channel, input);
  if (r.code !== 0) throw new Error(`${String(channel)}: ${r.code} ${r.message}`);
}

/**
 * Arms an in-page timer: from the next click anywhere to the first frame painted
 * after `selector` matches. Read it with {@link readTimer}.
 */
async function armTimer(page: Page, selector: string): Promise<void> {
  // A string, run in the page (this file is compiled without the DOM's types).
  await page.evaluate(`(() => {
    const sel = ${JSON.stringify(selector)};
    window.__benchTimer = new Promise((resolve) => {
      let start = 0;
      let done = false;
      const observer = new MutationObserver(() => finish());
      const finish = () => {
        if (done || !start || !document.querySelector(sel)) return;
        done = true;
        observer.disconnect();
        // The frame that shows it: after the next animation frame's paint.
        requestAnimationFrame(() => setTimeout(() => { window.__benchPaintAt = performance.now(); resolve(performance.now() - start); }, 0));
      };
      document.addEventListener('click', () => { start = performance.now(); finish(); }, { capture: true, once: true });
      observer.observe(document.body, { childList: true, subtree: true, attributes: true });
    });
  })()`);
}

const readTimer = (page: Page): Promise<number> => page.evaluate('window.__benchTimer') as Promise<number>;

export async function benchUi(): Promise<Record<string, BenchEntry>> {
  ensureBuiltUi();
  // The cheap PIN KDF (allowed only under test) keeps scrypt out of the UI's figures; `unlock` measures it.
  const nodeEnv = process.env.NODE_ENV;
  process.env.NODE_ENV = 'test';
  const dir = mkdtempSync(path.join(tmpdir(), 'sealpost-bench-ui-'));
  const open = (name: string) => openService({ profileDir: path.join(dir, name), actor: 'webhost', keychain: 'file', kdfParams: TEST_KDF_PARAMS });
  const alice = await open('alice');
  const bob = await open('bob');
  let browser: Awaited<ReturnType<typeof launchChromium>> | null = null;
  const webhost = await startWebhost({ handlers: alice.handlers, onEvent: alice.onEvent, rendererDir: RENDERER_DIR });
  try {
    await ok(alice, 'identity:create', { pin: PIN, rsaBits: 2048 });
    await ok(bob, 'identity:create', { pin: '0', rsaBits: 2048 });
    const t0 = performance.now();
    const start = Date.now() - MESSAGES * 60_000;
    const ids = seedConversation(alice, bob, {
      username: 'bob',
      userId: 'bob-id',
      count: MESSAGES,
      sentAt: (i) => start + i * 60_000,
      text: (i) => `Message ${i + 1} of ${MESSAGES}: the minutes of the meeting, the train times and what to bring on Saturday.`,
      verified: true,
    });
    // The newest two arrive unread, as after a night away.
    await ok(alice, 'messages:markRead', { ids: ids.slice(0, -2) });
    await ok(alice, 'session:lock', {});
    process.stderr.write(`bench ui: ${MESSAGES} messages stored in ${Math.round(performance.now() - t0)} ms\n`);
    bob.close();
    const newest = ids[ids.length - 1]!;
    const oldest = ids[0]!;

    browser = await launchChromium();
    const list: number[] = [];
    const fromClick: number[] = [];
    const conversation: number[] = [];
    const heap: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, colorScheme: 'light' });
      const page = await context.newPage();
      page.setDefaultTimeout(60_000);
      // The bridge's socket, watched from the page: when each call went out and its answer came back
      // (the unlock's answer starts list_ms; BENCH_UI_TRACE=1 prints the whole trace).
      {
        await page.addInitScript(`(() => {
          const send = WebSocket.prototype.send;
          window.__trace = [];
          const ids = new Map();
          WebSocket.prototype.send = function (data) {
            try { const f = JSON.parse(data); ids.set(f.id, f.channel); window.__trace.push(['>', f.channel, Math.round(performance.now())]); } catch {}
            if (!this.__traced) { this.__traced = true; this.addEventListener('message', (m) => { try { const f = JSON.parse(m.data); const name = f.id !== undefined ? ids.get(f.id) : 'event:' + (f.event && f.event.type); if (name === 'session:authenticate') window.__authAt = performance.now(); window.__trace.push(['<', name, Math.round(performance.now())]); } catch {} }); }
            return send.call(this, data);
          };
          document.addEventListener('click', () => window.__trace.push(['click', '', Math.round(performance.now())]), true);
        })()`);
      }
      await page.goto(webhost.url);
      await page.getByLabel('PIN', { exact: true }).fill(PIN);
      await armTimer(page, '[data-peer="bob-id"]');
      await page.getByRole('button', { name: 'Unlock' }).click();
      // The app opens on Chats after unlocking with unread messages.
      const row = page.locator('[data-peer="bob-id"]');
      await row.waitFor();
      fromClick.push(await readTimer(page));
      list.push((await page.evaluate('window.__benchPaintAt - window.__authAt')) as number);
      if (process.env.BENCH_UI_TRACE) console.error(JSON.stringify(await page.evaluate('window.__trace')));
      process.stderr.write(`bench ui: round ${round + 1}: list ${Math.round(list[list.length - 1]!)} ms (${Math.round(fromClick[fromClick.length - 1]!)} ms from the click)\n`);

      await armTimer(page, `[data-message-id="${newest}"]`);
      await row.click();
      conversation.push(await readTimer(page));

      // Up to the first message: every page of 50 comes from the engine as the list reaches its top.
      const scroller = page.locator('.message-list');
      const deadline = Date.now() + 300_000;
      while (!(await page.locator(`[data-message-id="${oldest}"]`).count())) {
        if (Date.now() > deadline) throw new Error('scrolling to the first message did not finish');
        await scroller.evaluate((el) => {
          el.scrollTop = 0;
        });
        await page.waitForTimeout(20);
      }
      const cdp = await context.newCDPSession(page);
      await cdp.send('HeapProfiler.collectGarbage');
      const usage = (await cdp.send('Runtime.getHeapUsage')) as { usedSize: number; totalSize: number };
      heap.push(usage.usedSize / 1024 / 1024);
      await context.close();
      await dispatch(alice.handlers, 'session:lock', {});
      // Opening the conversation read them: the next round starts with the same two unread.
      markUnread(alice, ids.slice(-2));
    }
    return {
      ui_10k: {
        value: round(median(conversation), 1),
        unit: 'ms',
        list_ms: round(median(list), 1),
        list_from_click_ms: round(median(fromClick), 1),
        heap_mb: round(median(heap), 1),
        messages: MESSAGES,
        rounds: ROUNDS,
        target_ms: 300,
        target_heap_mb: 150,
        mode: 'browser (webhost), Chromium headless, 1280x800',
      },
    };
  } finally {
    await browser?.close().catch(() => undefined);
    await webhost.close().catch(() => undefined);
    alice.close();
    rmSync(dir, { recursive: true, force: true });
    if (nodeEnv === undefined) delete process.env.NODE_ENV;
    else process.env.NODE_ENV = nodeEnv;
  }
}
