import { z } from 'zod';
import type { Result } from './codes.js';
import { call } from './contract-fields.js';
import { messagingChannels } from './contract-messaging.js';

/**
 * The desktop shell's calls: what only Electron's main process can do for the
 * page (the system's save dialog, the file manager). Built like the engine's
 * contract (shared/contract.ts): one schema per channel, validated in main
 * before anything runs (electron/main/desktop-dispatch.ts), one ipcMain handler
 * per channel with the same sender check (electron/main/ipc.ts), named
 * functions in the preload. They are not engine channels: the engine, the
 * webhost and the CLI do not serve them, and in browser mode
 * `window.sealpost.desktop` does not exist.
 *
 * The page never names a path: it names an attachment by its ids, the user
 * picks the place in the system's dialog, and a saved file is named back by
 * an opaque id.
 */

const read = messagingChannels['attachments:read'].input.shape;
const staged = messagingChannels['attachments:stageBegin'].input.shape;

/** What main hands back for a file it saved: random, 128 bits, meaningful only to that process. */
export const SaveId = z.string().regex(/^[0-9a-f]{32}$/, 'must be a save id');

export const desktopContract = {
  /**
   * Asks where to save one attachment (the system's save dialog, `name`
   * suggested), then writes its opened, hash-checked bytes there. `name` must
   * be the attachment's own (a file name, never a path). Cancelling the dialog
   * is `saved: false`, not an error.
   */
  'desktop:saveAttachment': call(
    z.object({ messageId: read.messageId, attachmentId: read.attachmentId, name: staged.name }).strict(),
    z.discriminatedUnion('saved', [
      z.object({ saved: z.literal(false) }),
      /** `name`: the file's name where it was saved (the user may have changed it). */
      z.object({ saved: z.literal(true), saveId: SaveId, name: z.string(), bytes: z.number().int() }),
    ]),
  ),
  /** Shows a file saveAttachment wrote, selected in the system's file manager. */
  'desktop:showSaved': call(z.object({ saveId: SaveId }).strict(), z.object({ shown: z.literal(true) })),
} as const;

export type DesktopContract = typeof desktopContract;
export type DesktopChannel = keyof DesktopContract;
export type DesktopInput<C extends DesktopChannel> = z.input<DesktopContract[C]['input']>;
export type DesktopOutput<C extends DesktopChannel> = z.output<DesktopContract[C]['output']>;

export const desktopChannels = Object.keys(desktopContract) as DesktopChannel[];

export function isDesktopChannel(name: unknown): name is DesktopChannel {
  return typeof name === 'string' && Object.prototype.hasOwnProperty.call(desktopContract, name);
}

/** Main's side: one handler per channel, called with the validated input. */
export type DesktopHandlers = { [C in DesktopChannel]: (input: z.output<DesktopContract[C]['input']>) => Promise<Result<DesktopOutput<C>>> };

/** What `window.sealpost.desktop` looks like in Electron: `desktop.saveAttachment({ ... })`. */
export type DesktopApi = {
  [C in DesktopChannel as C extends `desktop:${infer N}` ? N : never]: (input: DesktopInput<C>) => Promise<Result<DesktopOutput<C>>>;
};

/** Builds the API object from one generic invoker (the preload's ipcRenderer.invoke). */
export function buildDesktopApi(invoke: (channel: DesktopChannel, input: unknown) => Promise<unknown>): DesktopApi {
  const api: Record<string, (input: unknown) => Promise<unknown>> = {};
  for (const channel of desktopChannels) api[channel.slice('desktop:'.length)] = (input: unknown) => invoke(channel, input ?? {});
  return api as unknown as DesktopApi;
}
