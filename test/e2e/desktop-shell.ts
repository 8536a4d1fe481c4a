/**
 * The page as Electron shows it, without Electron (no binary on the test
 * machines): `window.sealpost` is built the way electron/preload/index.ts
 * builds it — one function per engine channel, onEvent, and `desktop` with the
 * shell's calls — and every call crosses to this process through a Playwright
 * binding, where it is dispatched as electron/main/ipc.ts does: engine
 * channels through dispatch() to the app's real engine, desktop channels
 * through dispatchDesktop() to main's handlers (electron/main/save-attachment.ts
 * desktopCalls), with the system's save dialog and file manager played by the
 * test. The webhost only serves the built UI here; its bridge socket is unused.
 */
import type { Browser, Page } from 'playwright-core';
import { dispatch } from '../../electron/engine/dispatch.js';
import { dispatchDesktop } from '../../electron/main/desktop-dispatch.js';
import { desktopCalls } from '../../electron/main/save-attachment.js';
import { desktopChannels, isDesktopChannel } from '../../shared/contract-desktop.js';
import { channels } from '../../shared/contract.js';
import { STEP_MS, type RunningApp } from './harness.js';

export interface DesktopShell {
  page: Page;
  /** The names the save dialog was opened with, in order. */
  asked: string[];
  /** What the save dialog answers next (a path, or null for Cancel); one entry per Save. */
  answers: (string | null)[];
  /** The files "Open folder" showed. */
  shown: string[];
  /** A desktop call straight into main's dispatch, as a page could send it. */
  call(channel: unknown, input: unknown): ReturnType<typeof dispatchDesktop>;
  close(): Promise<void>;
}

export async function openAsDesktop(app: RunningApp, browser: Browser): Promise<DesktopShell> {
  const asked: string[] = [];
  const answers: (string | null)[] = [];
  const shown: string[] = [];
  const desktop = desktopCalls({
    read: (input) => app.service.handlers['attachments:read'](input),
    choosePath: async (name) => {
      asked.push(name);
      if (answers.length === 0) throw new Error('the test gave the save dialog no answer');
      return answers.shift()!;
    },
    reveal: (file) => void shown.push(file),
  });
  const context = await browser.newContext({ colorScheme: 'light', viewport: { width: 1200, height: 860 }, acceptDownloads: false });
  await context.exposeFunction('__sealpostInvoke', (channel: unknown, input: unknown) =>
    isDesktopChannel(channel) ? dispatchDesktop(desktop, channel, input) : dispatch(app.service.handlers, channel, input),
  );
  await context.addInitScript(
    ({ engine, shell }) => {
      type Listener = (event: unknown) => void;
      const w = globalThis as unknown as { __sealpostInvoke: (channel: string, input: unknown) => Promise<unknown>; __sealpostEvent?: Listener; sealpost?: unknown };
      const listeners = new Set<Listener>();
      w.__sealpostEvent = (event) => {
        for (const listener of [...listeners]) listener(event);
      };
      const invoke = (channel: string) => (input: unknown) => w.__sealpostInvoke(channel, input ?? {});
      const api: Record<string, unknown> = {
        onEvent: (listener: Listener) => {
          listeners.add(listener);
          return () => void listeners.delete(listener);
        },
      };
      for (const channel of engine) {
        const [group, name] = channel.split(':') as [string, string];
        ((api[group] ??= {}) as Record<string, unknown>)[name] = invoke(channel);
      }
      api.desktop = Object.fromEntries(shell.map((channel) => [channel.slice('desktop:'.length), invoke(channel)]));
      w.sealpost = api;
    },
    { engine: channels as string[], shell: desktopChannels as string[] },
  );
  const page = await context.newPage();
  page.setDefaultTimeout(STEP_MS);
  // Engine events reach the page as main's forwardEvents sends them.
  const off = app.service.onEvent((event) => void page.evaluate((e) => (globalThis as unknown as { __sealpostEvent?: (e: unknown) => void }).__sealpostEvent?.(e), event).catch(() => undefined));
  await page.goto(app.webhost.url.replace(/#.*$/, ''));
  return {
    page,
    asked,
    answers,
    shown,
    call: (channel, input) => dispatchDesktop(desktop, channel, input),
    async close() {
      off();
      await context.close();
    },
  };
}
