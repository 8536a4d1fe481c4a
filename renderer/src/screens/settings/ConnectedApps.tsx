/**
 * Settings card "Connected apps" (docs/connected-apps.md): every application of
 * the organisation that received this user's personal key or a sign-in from this
 * profile, and when; blocking one stops future approvals. Keys already delivered
 * cannot be taken back, and the card says so (the engine's note) before and after.
 */
import { CardStatus } from '../../components/CardStatus';
import { useCallback, useEffect, useState } from 'react';
import { AppWindow } from 'lucide-react';
import type { Output } from '../../../../shared/contract';
import { sealpost } from '../../bridge';
import { Dialog } from '../../components/Dialog';
import { ApprovalCard } from '../../components/ApprovalCard';
import { EmptyState } from '../../components/EmptyState';
import type { UiError } from '../../errors';
import { call } from '../../lib/call';
import { useRefreshOn } from '../../lib/events';

type AppList = Output<'apps:list'>;
type ConnectedApp = AppList['apps'][number];

const at = (iso: string | null) => (iso ? new Date(iso).toLocaleString() : 'never');

function AppRow({ app, onBlock }: { app: ConnectedApp; onBlock: (a: ConnectedApp) => void }) {
  return (
    <li className="list-row" data-testid="connected-app-row" data-app-id={app.id}>
      <span className="row-main">
        <span className="row-title">
          {app.name} {app.blockedAt && <span className="tag tag-warn">Blocked</span>}
        </span>
        <span className="row-sub">
          <span className="mono">{app.id}</span> · first {at(app.firstAt)}
        </span>
        <span className="row-sub">
          {app.keys} {app.keys === 1 ? 'key' : 'keys'} (last {at(app.lastKeyAt)}) · {app.signIns} {app.signIns === 1 ? 'sign-in' : 'sign-ins'} (last {at(app.lastSignInAt)})
        </span>
      </span>
      <span className="row-meta">
        {app.blockedAt ? (
          <span className="small muted">since {at(app.blockedAt)}</span>
        ) : (
          <button type="button" className="danger small" onClick={() => onBlock(app)} aria-label={`Block ${app.name}`}>
            Block…
          </button>
        )}
      </span>
    </li>
  );
}

export function ConnectedApps() {
  const [list, setList] = useState<AppList | null>(null);
  const [error, setError] = useState<UiError | null>(null);
  const [confirming, setConfirming] = useState<ConnectedApp | null>(null);
  const [busy, setBusy] = useState(false);
  const [note, setNote] = useState<string | null>(null);

  const load = useCallback(async () => {
    const r = await call(sealpost.apps.list({}));
    if (r.ok) {
      setList(r.value);
      setError(null);
    } else setError(r.error);
  }, []);

  useEffect(() => {
    void load();
  }, [load]);
  // An approval (here, on another device, or from the CLI) adds to the list.
  useRefreshOn('approvals', load);

  async function block(app: ConnectedApp) {
    setBusy(true);
    const r = await call(sealpost.apps.block({ appId: app.id }));
    setBusy(false);
    setConfirming(null);
    if (!r.ok) return setError(r.error);
    setNote(`${app.name} is blocked. ${r.value.note}`);
    await load();
  }

  return (
    <section className="card" aria-labelledby="connected-apps-title" data-testid="connected-apps">
      <h2 id="connected-apps-title">Connected apps</h2>
      <p>Applications of your organization that received your personal encryption key or signed you in, each after you approved it.</p>
      {list && list.apps.length === 0 && (
        <EmptyState icon={AppWindow} title="No connected apps yet">
          When an application asks for your key or a sign-in, a card appears at the top of the window for you to approve or deny.
        </EmptyState>
      )}
      {list && list.apps.length > 0 && (
        <ul className="list" aria-label="Connected apps">
          {list.apps.map((a) => (
            <AppRow key={a.id} app={a} onBlock={setConfirming} />
          ))}
        </ul>
      )}
      {list && <p className="muted small">{list.note}</p>}
      <ApprovalCard mode="claim" />
      <Dialog
        open={confirming !== null}
        title={confirming ? `Block ${confirming.name}?` : 'Block'}
        onClose={() => setConfirming(null)}
        footer={
          <>
            <button type="button" className="secondary" onClick={() => setConfirming(null)}>
              Cancel
            </button>
            <button type="button" className="danger-solid" disabled={busy} onClick={() => confirming && void block(confirming)}>
              Block
            </button>
          </>
        }
      >
        <p>{list?.note}</p>
      </Dialog>
      <CardStatus note={note} error={error} />
    </section>
  );
}
