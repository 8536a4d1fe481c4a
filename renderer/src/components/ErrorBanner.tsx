/**
 * A failed call in the app's voice: what happened, what to check (when
 * errors.ts knows), and the result code in a quieter details line.
 */
import { CircleAlert } from 'lucide-react';
import type { UiError } from '../errors';

export function ErrorBanner({ error }: { error: UiError }) {
  return (
    <div role="alert" className="error">
      <CircleAlert size={18} aria-hidden="true" />
      <div className="error-body">
        <p>{error.text}</p>
        {error.hint && <p className="hint">{error.hint}</p>}
        <p className="details">{error.details}</p>
      </div>
    </div>
  );
}
