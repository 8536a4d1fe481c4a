/**
 * The recovery-backup reminder the policy imposes (recoveryBackupRequiredDays):
 * shown in the unlocked shell until a backup exists, and it cannot be dismissed.
 * Overdue, it is the loud kind. The button opens Settings at the recovery section.
 */
import { LifeBuoy } from 'lucide-react';
import './managed.css';
import { useManaged } from '../lib/policy';

export function RecoveryReminder({ onOpen }: { onOpen: () => void }) {
  const reminder = useManaged().policy?.recoveryBackup;
  if (!reminder || reminder.done) return null;
  const due = reminder.dueAt === null ? null : new Date(reminder.dueAt).toLocaleDateString();
  return (
    <div className={`${reminder.overdue ? 'alarm' : 'notice'} row recovery-reminder`} role={reminder.overdue ? 'alert' : 'status'} data-testid="recovery-reminder">
      <LifeBuoy size={16} aria-hidden="true" />
      <span>
        {reminder.overdue
          ? `Your organization required a recovery backup by ${due ?? 'now'}, and none exists yet. Without one, a lost computer means lost keys.`
          : `Your organization requires a recovery backup within ${reminder.requiredWithinDays} days${due ? ` (by ${due})` : ''}.`}
      </span>
      <button type="button" className={reminder.overdue ? 'danger-solid small' : 'secondary small'} onClick={onOpen}>
        Set up recovery
      </button>
    </div>
  );
}
