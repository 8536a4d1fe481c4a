/**
 * The unlocked app's sidebar: the screens (with the unread count on Chats),
 * the connection state and the lock button. On narrow windows the CSS
 * collapses it to icons; every button keeps its name for screen readers.
 */
import { KeyRound, Lock, MessagesSquare, ScrollText, Settings, Users, type LucideIcon } from 'lucide-react';
import type { UiError } from '../errors';
import { Brand } from './Brand';
import { SyncState, type SyncStatus } from './SyncState';

export type Screen = 'chats' | 'contacts' | 'vault' | 'audit' | 'settings';

export const SCREENS: { id: Screen; label: string; icon: LucideIcon }[] = [
  { id: 'chats', label: 'Chats', icon: MessagesSquare },
  { id: 'contacts', label: 'Contacts', icon: Users },
  { id: 'vault', label: 'Vault', icon: KeyRound },
  { id: 'audit', label: 'Audit', icon: ScrollText },
  { id: 'settings', label: 'Settings', icon: Settings },
];

export interface SidebarProps {
  screen: Screen;
  onNavigate: (screen: Screen) => void;
  unread: number;
  sync: SyncStatus | null;
  onSynced: () => void;
  onSyncError: (error: UiError | null) => void;
  onLock: () => void;
}

const mod = typeof navigator !== 'undefined' && /Mac/.test(navigator.platform) ? 'Cmd' : 'Ctrl';

export function Sidebar({ screen, onNavigate, unread, sync, onSynced, onSyncError, onLock }: SidebarProps) {
  return (
    <aside className="sidebar" aria-label="Sealpost">
      <Brand />
      <nav aria-label="Main" className="sidebar-nav">
        {SCREENS.map(({ id, label, icon: Icon }) => (
          <button key={id} type="button" className="nav-item" aria-current={screen === id ? 'page' : undefined} title={label} onClick={() => onNavigate(id)}>
            <Icon size={20} aria-hidden="true" />
            <span className="nav-label">{label}</span>
            {id === 'chats' && unread > 0 && (
              <>
                <span className="count" aria-hidden="true">
                  {unread > 99 ? '99+' : unread}
                </span>
                <span className="sr-only">, {unread} unread</span>
              </>
            )}
          </button>
        ))}
      </nav>
      <div className="sidebar-foot">
        {sync?.registered && <SyncState status={sync} onSynced={onSynced} onError={onSyncError} />}
        <span className="sync-label badge badge-ok nav-hint" data-testid="lock-state">
          Unlocked
        </span>
        <button type="button" className="nav-item" title={`Lock now (${mod}+L)`} onClick={onLock}>
          <Lock size={20} aria-hidden="true" />
          <span className="nav-label">Lock now</span>
        </button>
      </div>
    </aside>
  );
}
