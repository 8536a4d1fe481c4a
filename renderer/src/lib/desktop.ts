/**
 * The desktop shell's calls (shared/contract-desktop.ts), which only Electron's
 * preload provides as `window.sealpost.desktop`: the system's save dialog and
 * "Open folder". Null in browser mode, where screens keep the browser's ways
 * (a download) and hide what needs the shell.
 */
import type { DesktopApi } from '../../../shared/contract-desktop';

type WithDesktop = { desktop?: DesktopApi };

export const desktop: DesktopApi | null = (window.sealpost as WithDesktop | undefined)?.desktop ?? null;
