/**
 * The product's mark: the lock logo and the "Sealpost" wordmark. It is the
 * page's h1 wherever it shows (the sidebar, and the header above first run,
 * unlock and the invalid-policy screen); the screens' own titles come below it.
 */
import { Lock } from 'lucide-react';

export function Brand() {
  return (
    <div className="brand">
      <span className="brand-mark" aria-hidden="true">
        <Lock size={16} />
      </span>
      <h1>Sealpost</h1>
    </div>
  );
}
