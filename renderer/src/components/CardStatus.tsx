/** The foot of a settings card: what the last action did, or what went wrong. */
import type { UiError } from '../errors';
import { ErrorBanner } from './ErrorBanner';

export function CardStatus({ note, error }: { note: string | null; error: UiError | null }) {
  return (
    <>
      {note && (
        <p className="ok" role="status">
          {note}
        </p>
      )}
      {error && <ErrorBanner error={error} />}
    </>
  );
}
