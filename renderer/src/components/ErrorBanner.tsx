import type { UiError } from '../errors';

export function ErrorBanner({ error }: { error: UiError }) {
  return (
    <div role="alert" className="error">
      <p>{error.text}</p>
      <p className="details">{error.details}</p>
    </div>
  );
}
