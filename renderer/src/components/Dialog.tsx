/**
 * A modal dialog on the native <dialog> element: showModal() makes the rest
 * of the page inert (focus stays inside), Esc closes it (the `cancel` event),
 * and focus goes back to whatever had it before the dialog opened.
 *
 *   <Dialog open={open} title="New conversation" onClose={() => setOpen(false)}
 *           footer={<button onClick={start}>Start</button>}>…</Dialog>
 *
 * Mark the element that should get focus with `data-autofocus` (not autoFocus).
 */
import { useEffect, useId, useRef, type ReactNode } from 'react';
import { X } from 'lucide-react';

export interface DialogProps {
  open: boolean;
  title: string;
  onClose: () => void;
  children: ReactNode;
  /** Buttons at the bottom right (the main action last). */
  footer?: ReactNode;
  /** A wider dialog (48rem) for pickers and tables. */
  wide?: boolean;
  /** A sentence read with the title by screen readers. */
  description?: string;
}

export function Dialog({ open, title, onClose, children, footer, wide = false, description }: DialogProps) {
  const ref = useRef<HTMLDialogElement>(null);
  const returnTo = useRef<HTMLElement | null>(null);
  const titleId = useId();
  const descId = useId();
  const latestClose = useRef(onClose);
  useEffect(() => {
    latestClose.current = onClose;
  });

  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (open && !dialog.open) {
      returnTo.current = document.activeElement instanceof HTMLElement ? document.activeElement : null;
      dialog.showModal();
      // An element marked data-autofocus wins (React's autoFocus fires before showModal, too early);
      // else the first field; else the browser's choice (the first focusable element).
      const wanted = dialog.querySelector<HTMLElement>('[data-autofocus]') ?? dialog.querySelector<HTMLElement>('.dialog-body input, .dialog-body textarea, .dialog-body select');
      wanted?.focus();
    } else if (!open && dialog.open) {
      dialog.close();
    }
  }, [open]);

  // Focus back where it was when the dialog goes away, however it went (closed or unmounted).
  useEffect(() => {
    if (open) return;
    const target = returnTo.current;
    returnTo.current = null;
    if (target && target.isConnected) target.focus();
  }, [open]);
  useEffect(() => () => {
    const target = returnTo.current;
    if (target && target.isConnected) queueMicrotask(() => target.focus());
  }, []);

  return (
    <dialog
      ref={ref}
      className={`dialog-modal${wide ? ' wide' : ''}`}
      aria-labelledby={titleId}
      aria-describedby={description ? descId : undefined}
      onCancel={(e) => {
        // Esc: we close through the owner's state, so React stays the one source of truth.
        e.preventDefault();
        latestClose.current();
      }}
    >
      {open && (
        <>
          <div className="dialog-header">
            <h2 id={titleId}>{title}</h2>
            <button type="button" className="icon-btn" aria-label="Close" onClick={() => latestClose.current()}>
              <X size={18} aria-hidden="true" />
            </button>
          </div>
          <div className="dialog-body">
            {description && (
              <p id={descId} className="muted small">
                {description}
              </p>
            )}
            {children}
          </div>
          {footer && <div className="dialog-footer">{footer}</div>}
        </>
      )}
    </dialog>
  );
}
