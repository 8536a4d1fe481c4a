/**
 * The app's keyboard shortcuts on the unlocked screens: Ctrl/Cmd+N new
 * message, Ctrl/Cmd+F the current screen's search, Ctrl/Cmd+L lock. Esc is
 * the dialogs' own (components/Dialog.tsx).
 */
import { useEffect, useRef } from 'react';

export interface ShortcutHandlers {
  newMessage: () => void;
  lock: () => void;
}

/** Focuses the search box of the screen on show (the input marked data-search); false when it has none. */
export function focusScreenSearch(): boolean {
  const input = document.querySelector<HTMLInputElement>('main [data-search]');
  if (!input) return false;
  input.focus();
  input.select();
  return true;
}

export function useShortcuts(enabled: boolean, handlers: ShortcutHandlers): void {
  const latest = useRef(handlers);
  useEffect(() => {
    latest.current = handlers;
  });
  useEffect(() => {
    if (!enabled) return;
    const onKey = (e: KeyboardEvent) => {
      if (!(e.ctrlKey || e.metaKey) || e.altKey || e.shiftKey) return;
      // A modal dialog owns the keyboard while it is open.
      if (document.querySelector('dialog[open]')) return;
      const key = e.key.toLowerCase();
      if (key === 'n') {
        e.preventDefault();
        latest.current.newMessage();
      } else if (key === 'l') {
        e.preventDefault();
        latest.current.lock();
      } else if (key === 'f') {
        // Without a search on this screen, the browser's own find still works.
        if (focusScreenSearch()) e.preventDefault();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [enabled]);
}
