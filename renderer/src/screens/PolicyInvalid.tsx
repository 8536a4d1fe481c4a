/**
 * The organisation's policy cannot be read or is invalid: the engine fails closed
 * (every change is refused, the profile is untouched), so the UI shows only this,
 * naming the file (or registry key, plist) and the problem, for the user to pass to IT.
 */
import { ShieldAlert } from 'lucide-react';
import type { PolicyValue } from '../../../shared/policy';
import '../components/managed.css';

export function PolicyInvalid({ policy }: { policy: PolicyValue }) {
  return (
    <section className="card narrow" role="alert" aria-labelledby="policy-invalid-title" data-testid="policy-invalid">
      <h2 id="policy-invalid-title">
        <ShieldAlert size={20} aria-hidden="true" className="policy-invalid-icon" /> Sealpost cannot start: your organization’s policy is not valid
      </h2>
      <p>
        IT manages Sealpost on this computer, and its settings file cannot be used. To keep your data safe, Sealpost changes nothing until it is fixed. Your keys, vault
        and messages are unchanged.
      </p>
      <dl>
        <dt>Where</dt>
        <dd className="mono" data-testid="policy-sources">
          {policy.sources.length > 0 ? policy.sources.join(', ') : 'the managed settings of this computer'}
        </dd>
        <dt>Problem</dt>
        <dd className="mono" data-testid="policy-error">
          {policy.error ?? 'unknown'}
        </dd>
      </dl>
      <p className="muted small">Send this to your IT department. Sealpost reads the policy again when it is restarted.</p>
    </section>
  );
}
