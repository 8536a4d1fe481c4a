/**
 * The mark on a setting the organisation's policy locks (docs/deploy.md). The
 * control next to it is disabled; the engine would refuse a change anyway.
 */
import { Building2 } from 'lucide-react';
import './managed.css';

export function Managed({ id }: { id?: string }) {
  return (
    <span className="tag tag-accent managed" id={id}>
      <Building2 size={14} aria-hidden="true" /> Managed by your organization
    </span>
  );
}
