/**
 * The app's frame: asks the engine for its status, then shows first run,
 * unlock, or the unlocked shell (vault, audit, settings, ...). Status is
 * reloaded on the engine's events (sync, messages, lock), so an auto-lock
 * (idle timer, OS lock, the CLI) shows the unlock screen at once and the sync
 * bar follows the sync engine; reading status does not count as activity.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import type { Output } from '../../shared/contract';
import { sealpost } from './bridge';
import { ApprovalCard } from './components/ApprovalCard';
import { ErrorBanner } from './components/ErrorBanner';
import { SyncBar, type SyncStatus } from './components/SyncBar';
import { call } from './lib/call';
import { useRefreshOn } from './lib/events';
import { useWebNotifications } from './lib/web-notifications';
import type { UiError } from './errors';
import { Audit } from './screens/Audit';
import { Contacts } from './screens/Contacts';
import { Inbox } from './screens/Inbox';
import { FirstRun } from './screens/FirstRun';
import { Settings } from './screens/Settings';
import { Unlock } from './screens/Unlock';
import { Vault } from './screens/Vault';

export type Status = Output<'engine:status'>;

/** The header's "Keys kept in" (a file with no PIN protects nothing by itself, so it says so). */
function keysKeptIn(status: Status): string {
  if (status.keychainBackend === 'secret-service') return 'the system keychain';
  return status.hasIdentity && status.pinDisabled ? 'a file, without a PIN' : 'a PIN-protected file';
}
type Screen = 'inbox' | 'contacts' | 'vault' | 'audit' | 'settings';

const SCREENS: { id: Screen; label: string }[] = [
  { id: 'inbox', label: 'Inbox' },
  { id: 'contacts', label: 'Contacts' },
  { id: 'vault', label: 'Vault' },
  { id: 'audit', label: 'Audit log' },
  { id: 'settings', label: 'Settings' },
];

/**
 * Events drive the screens; this slow reload only catches what no event can
 * report: changes another process (the CLI) made to the same profile, whose
 * engine is not ours. Reading status does not keep the keys unlocked.
 */
const SAFETY_REFRESH_MS = 60_000;

export function App() {
  const [status, setStatus] = useState<Status | null>(null);
  const [error, setError] = useState<UiError | null>(null);
  const [screen, setScreen] = useState<Screen>('vault');
  const unreadLabel = (id: Screen, label: string) => (id === 'inbox' && sync && sync.unread > 0 ? `${label} (${sync.unread})` : label);
  /** True from the first sight of a profile without identity until first run says done. */
  const [onboarding, setOnboarding] = useState(false);
  /** Why the last lock happened, when the UI did not ask for it. */
  const [lockNote, setLockNote] = useState<string | null>(null);
  const [sync, setSync] = useState<SyncStatus | null>(null);
  /** Bumped when sync brought something new, so open lists reload. */
  const [syncTick, setSyncTick] = useState(0);
  const lastSyncKey = useRef('');
  const wasUnlocked = useRef(false);
  const manualLock = useRef(false);

  const refresh = useCallback(async () => {
    const r = await call(sealpost.engine.status({}));
    if (!r.ok) {
      setError(r.error);
      return;
    }
    setError(null);
    setStatus(r.value);
    if (!r.value.hasIdentity) setOnboarding(true);
    if (wasUnlocked.current && !r.value.unlocked) {
      setLockNote(manualLock.current ? null : 'Sealpost locked itself after a while without use.');
      manualLock.current = false;
    }
    if (r.value.unlocked) setLockNote(null);
    wasUnlocked.current = r.value.unlocked;
    if (r.value.unlocked) {
      const st = await call(sealpost.sync.status({}));
      if (st.ok) {
        setSync(st.value);
        const key = `${st.value.lastSyncAt}/${st.value.unread}/${st.value.pending}/${st.value.failed}`;
        if (key !== lastSyncKey.current) {
          lastSyncKey.current = key;
          setSyncTick((t) => t + 1);
        }
      }
    }
  }, []);

  useEffect(() => {
    void refresh();
    const timer = setInterval(() => void refresh(), SAFETY_REFRESH_MS);
    return () => clearInterval(timer);
  }, [refresh]);
  useRefreshOn(['sync', 'messages', 'lock'], refresh);
  useWebNotifications();

  async function lock() {
    manualLock.current = true;
    await call(sealpost.session.lock({}));
    await refresh();
  }

  const unlocked = !!status && status.hasIdentity && status.unlocked && !onboarding;

  return (
    <div className="app">
      <a className="skip" href="#content">Skip to content</a>
      <header className="topbar">
        <h1>Sealpost</h1>
        {status && (
          <span className={`badge ${status.unlocked ? 'badge-ok' : ''}`} data-testid="lock-state">
            {status.unlocked ? 'Unlocked' : status.hasIdentity ? 'Locked' : status.wiped ? 'Keys erased' : 'New'}
          </span>
        )}
        {status && <span className="muted small" data-testid="keys-kept-in">Keys kept in: {keysKeptIn(status)}</span>}
        <span className="spacer" />
        {unlocked && (
          <button type="button" className="secondary" onClick={() => void lock()}>
            Lock now
          </button>
        )}
      </header>
      {unlocked && (
        <nav aria-label="Main" className="mainnav">
          {SCREENS.map((s) => (
            <button key={s.id} type="button" className="navbtn" aria-current={screen === s.id ? 'page' : undefined} onClick={() => setScreen(s.id)}>
              {unreadLabel(s.id, s.label)}
            </button>
          ))}
        </nav>
      )}
      {unlocked && sync?.registered && <SyncBar status={sync} onSynced={() => void refresh()} />}
      {unlocked && sync?.registered && <ApprovalCard />}
      {error && <ErrorBanner error={error} />}
      <main id="content" tabIndex={-1}>
        {!status && !error && <p aria-busy="true">Starting…</p>}
        {status && (onboarding || !status.hasIdentity) && (
          <FirstRun
            keychainBackend={status.keychainBackend}
            wiped={status.wiped}
            onChange={refresh}
            onDone={() => {
              setOnboarding(false);
              void refresh();
            }}
          />
        )}
        {status && status.hasIdentity && !status.unlocked && !onboarding && <Unlock status={status} note={lockNote} onDone={refresh} />}
        {unlocked && screen === 'inbox' && <Inbox refreshKey={syncTick} onChange={() => void refresh()} />}
        {unlocked && screen === 'contacts' && <Contacts />}
        {unlocked && screen === 'vault' && <Vault />}
        {unlocked && screen === 'audit' && <Audit />}
        {unlocked && screen === 'settings' && <Settings status={status} onChange={refresh} />}
      </main>
    </div>
  );
}
