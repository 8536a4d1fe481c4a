/**
 * The app's frame: asks the engine for its status, then shows first run,
 * unlock, or the unlocked shell (sidebar + the chosen screen). Status is
 * reloaded on the engine's events (sync, messages, lock), so an auto-lock
 * (idle timer, OS lock, the CLI) shows the unlock screen at once and the
 * sidebar's connection state follows the sync engine; reading status does not
 * count as activity. After unlocking with unread messages the app opens on
 * Chats.
 */
import { Fragment, useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { sealpost } from './bridge';
import { ApprovalCard } from './components/ApprovalCard';
import { Brand } from './components/Brand';
import { TotpRequiredBanner } from './components/TotpRequiredBanner';
import { ErrorBanner } from './components/ErrorBanner';
import { Sidebar, type Screen } from './components/Sidebar';
import type { SyncStatus } from './components/SyncState';
import { call } from './lib/call';
import { useEngineEvent, useRefreshOn } from './lib/events';
import { ManagedContext, type ManagedState } from './lib/policy';
import { RecoveryReminder } from './components/RecoveryReminder';
import { PolicyInvalid } from './screens/PolicyInvalid';
import { useShortcuts } from './lib/shortcuts';
import { keysKeptIn, type Status } from './lib/status';
import { useWebNotifications } from './lib/web-notifications';
import type { UiError } from './errors';
import { Audit } from './screens/Audit';
import { Chats } from './screens/chats/Chats';
import { Contacts } from './screens/contacts/Contacts';
import { FirstRun } from './screens/FirstRun';
import { Settings } from './screens/Settings';
import { Unlock } from './screens/Unlock';
import { Vault } from './screens/Vault';


export function App() {
  const [status, setStatus] = useState<Status | null>(null);
  const [error, setError] = useState<UiError | null>(null);
  const [syncError, setSyncError] = useState<UiError | null>(null);
  const [screen, setScreen] = useState<Screen>('vault');
  /** True from the first sight of a profile without identity until first run says done. */
  const [onboarding, setOnboarding] = useState(false);
  /** Why the last lock happened, when the UI did not ask for it. */
  const [lockNote, setLockNote] = useState<string | null>(null);
  const [sync, setSync] = useState<SyncStatus | null>(null);
  /** Bumped by Ctrl/Cmd+N: the Chats screen opens its new-conversation dialog when it changes. */
  const [newConversationRequest, setNewConversationRequest] = useState(0);
  /** Bumped when the sidebar's button of the screen on show is pressed again: the screen starts over (its list, on a narrow window). */
  const [screenKey, setScreenKey] = useState(0);
  /** A conversation to open in Chats (from a contact's "Message" button); `n` makes a repeat count. */
  const [openRequest, setOpenRequest] = useState<{ peer: string; name: string; n: number } | null>(null);
  const wasUnlocked = useRef(false);
  const manualLock = useRef(false);
  /** The managed policy (read at start and after each unlock, for the backup reminder) and the last enroll link the OS opened. */
  const [managed, setManaged] = useState<Omit<ManagedState, 'reload'>>({ policy: null, enrollLink: null });
  /** Bumped by the recovery reminder's button: Settings scrolls to the recovery section. */
  const [recoveryRequest, setRecoveryRequest] = useState(0);

  const loadPolicy = useCallback(async () => {
    const r = await call(sealpost.policy.get({}));
    if (r.ok) setManaged((m) => ({ ...m, policy: r.value }));
  }, []);
  // Subscribed from the start, so a link opened before Connect shows still prefills it.
  useEngineEvent('enroll-link', (event) => setManaged((m) => ({ ...m, enrollLink: event })));
  const managedState = useMemo<ManagedState>(() => ({ ...managed, reload: () => void loadPolicy() }), [managed, loadPolicy]);

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
    const justUnlocked = !wasUnlocked.current && r.value.unlocked;
    if (justUnlocked) void loadPolicy();
    wasUnlocked.current = r.value.unlocked;
    if (r.value.unlocked) {
      const st = await call(sealpost.sync.status({}));
      if (st.ok) {
        setSync(st.value);
        if (justUnlocked && st.value.unread > 0) setScreen('chats');
      }
    }
  }, [loadPolicy]);

  useEffect(() => {
    void loadPolicy();
    void refresh();
  }, [refresh, loadPolicy]);
  // Events drive it, changes the command line makes to the same profile included (the engine watches for them).
  useRefreshOn(['sync', 'messages', 'lock'], refresh);
  // The reminder goes once a backup is stored (recovery:backup reports no event: re-read when Settings changes something).
  useEffect(() => {
    if (recoveryRequest === 0 || screen !== 'settings') return;
    const target = document.getElementById('recovery-settings');
    target?.scrollIntoView({ block: 'start' });
    target?.focus({ preventScroll: true });
  }, [recoveryRequest, screen]);
  useWebNotifications();

  const lock = useCallback(async () => {
    manualLock.current = true;
    await call(sealpost.session.lock({}));
    await refresh();
  }, [refresh]);

  const unlocked = !!status && status.hasIdentity && status.unlocked && !onboarding;

  // Ctrl/Cmd+N from another screen: Chats mounts first (it ignores the request count it mounts with), then the request.
  const newAfterSwitch = useRef(false);
  useEffect(() => {
    if (screen !== 'chats' || !newAfterSwitch.current) return;
    newAfterSwitch.current = false;
    setNewConversationRequest((n) => n + 1);
  }, [screen]);
  useShortcuts(unlocked, {
    newMessage: () => {
      if (screen === 'chats') setNewConversationRequest((n) => n + 1);
      else {
        newAfterSwitch.current = true;
        setScreen('chats');
      }
    },
    lock: () => void lock(),
  });


  if (managed.policy?.state === 'invalid') {
    return (
      <div className="auth-layout">
        <header className="row">
          <Brand />
        </header>
        <main id="content" tabIndex={-1}>
          <PolicyInvalid policy={managed.policy} />
        </main>
      </div>
    );
  }

  if (!unlocked) {
    return (
      <ManagedContext.Provider value={managedState}>
      <div className="auth-layout">
        <a className="skip" href="#content">
          Skip to content
        </a>
        <header className="row">
          <Brand />
          {status && (
            <span className={`badge ${status.hasIdentity && !status.unlocked ? '' : 'badge-accent'}`} data-testid="lock-state">
              {status.unlocked ? 'Unlocked' : status.hasIdentity ? 'Locked' : status.wiped ? 'Keys erased' : 'New'}
            </span>
          )}
          {status && (
            <span className="muted small" data-testid="keys-kept-in">
              Keys kept in: {keysKeptIn(status)}
            </span>
          )}
        </header>
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
        </main>
      </div>
      </ManagedContext.Provider>
    );
  }

  return (
    <ManagedContext.Provider value={managedState}>
    <div className="app-shell">
      <a className="skip" href="#content">
        Skip to content
      </a>
      <Sidebar
        screen={screen}
        onNavigate={(next) => {
          if (next === screen) setScreenKey((k) => k + 1);
          setScreen(next);
        }}
        unread={sync?.unread ?? 0}
        sync={sync}
        onSynced={() => void refresh()}
        onSyncError={setSyncError}
        onLock={() => void lock()}
      />
      <div className="app-main">
        {(error ?? syncError) && (
          <div className="banner-slot">
            <ErrorBanner error={(error ?? syncError)!} />
          </div>
        )}
        {sync?.registered && <TotpRequiredBanner onOpen={() => setScreen('settings')} />}
        <RecoveryReminder onOpen={() => {
          setScreen('settings');
          setRecoveryRequest((n) => n + 1);
        }} />
        {sync?.registered && <ApprovalCard />}
        <main id="content" tabIndex={-1}>
          <Fragment key={screenKey}>
          {screen === 'chats' && <Chats newConversationRequest={newConversationRequest} openRequest={openRequest} onChange={() => void refresh()} />}
          {screen === 'contacts' && (
            <Contacts
              onMessage={({ peer, name }) => {
                setOpenRequest((r) => ({ peer, name, n: (r?.n ?? 0) + 1 }));
                setScreen('chats');
              }}
            />
          )}
          {screen === 'vault' && <Vault />}
          {screen === 'audit' && <Audit />}
          {screen === 'settings' && status && <Settings status={status} onChange={refresh} />}
          </Fragment>
        </main>
      </div>
    </div>
    </ManagedContext.Provider>
  );
}
