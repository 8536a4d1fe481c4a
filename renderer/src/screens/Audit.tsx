/**
 * The local audit log: every key and data request with its result, filtered
 * by action and result, exported as CSV, and the hash chain checked (with
 * the first broken entry shown when it does not verify).
 */
import { Download, RefreshCw, ScrollText } from 'lucide-react';
import { EmptyState } from '../components/EmptyState';
import { useCallback, useEffect, useState } from 'react';
import type { Output } from '../../../shared/contract';
import { sealpost } from '../bridge';
import { ErrorBanner } from '../components/ErrorBanner';
import type { UiError } from '../errors';
import { call } from '../lib/call';
import { saveFile } from '../lib/download';

type Entry = Output<'audit:list'>[number];
type Verify = Output<'audit:verify'>;

const ACTIONS = ['identity.create', 'identity.export', 'unlock', 'lock', 'pin.change', 'encrypt', 'decrypt', 'grant', 'revoke', 'message.send', 'message.open', 'device.register', 'contact.verify', 'backup.create'];
const RESULTS = ['ok', 'WrongPin', 'InvalidPin', 'LockedOut', 'Locked', 'NotFound', 'Conflict', 'Tampered', 'NoInternetAccess', 'Failed'];

/** RFC 4180 field: quoted when it holds a comma, quote or line break; a leading =+-@ is prefixed so spreadsheets do not run it as a formula. */
function csvField(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

export function toCsv(entries: Entry[]): string {
  const head = ['id', 'time', 'actor', 'action', 'target', 'result', 'details', 'hash'];
  const rows = entries.map((e) => [String(e.id), e.ts, e.actor, e.action, e.target ?? '', e.result, e.details ? JSON.stringify(e.details) : '', e.hash].map(csvField).join(','));
  return [head.join(','), ...rows].join('\r\n') + '\r\n';
}

export function Audit() {
  const [entries, setEntries] = useState<Entry[]>([]);
  const [chain, setChain] = useState<Verify | null>(null);
  const [action, setAction] = useState('');
  const [result, setResult] = useState('');
  const [error, setError] = useState<UiError | null>(null);

  const load = useCallback(async () => {
    const [list, verify] = await Promise.all([
      call(sealpost.audit.list({ limit: 1000, ...(action && { action }), ...(result && { result }) })),
      call(sealpost.audit.verify({})),
    ]);
    if (list.ok) setEntries(list.value);
    else setError(list.error);
    if (verify.ok) setChain(verify.value);
    else setError(verify.error);
  }, [action, result]);

  useEffect(() => {
    void load();
  }, [load]);

  return (
    <section className="screen" aria-labelledby="audit-title">
      <header className="screen-header">
        <h1 id="audit-title">Audit log</h1>
        {chain &&
          (chain.ok ? (
            <span className="badge badge-ok" data-testid="chain-badge">
              Chain verified · {chain.entries} entries
            </span>
          ) : (
            <span className="badge badge-alarm" role="alert" data-testid="chain-badge">
              Chain broken at entry {chain.firstBadId ?? '?'}
              {chain.reason ? ` (${chain.reason})` : ''}
            </span>
          ))}
      </header>
      <div className="screen-body">
      <p className="muted small">Every use of your keys and vault on this device, with its result. Each entry is chained to the one before, so an edit or a removed entry shows.</p>
      <div className="row filters">
        <label>
          Action
          <select value={action} onChange={(e) => setAction(e.target.value)}>
            <option value="">All actions</option>
            {ACTIONS.map((a) => (
              <option key={a} value={a}>
                {a}
              </option>
            ))}
          </select>
        </label>
        <label>
          Result
          <select value={result} onChange={(e) => setResult(e.target.value)}>
            <option value="">All results</option>
            {RESULTS.map((r) => (
              <option key={r} value={r}>
                {r}
              </option>
            ))}
          </select>
        </label>
        <button type="button" className="secondary" onClick={() => void load()}>
          <RefreshCw size={16} aria-hidden="true" />
          Refresh and verify
        </button>
        <button type="button" onClick={() => saveFile(`sealpost-audit-${new Date().toISOString().slice(0, 10)}.csv`, toCsv(entries), 'text/csv')} disabled={entries.length === 0}>
          <Download size={16} aria-hidden="true" />
          Export CSV
        </button>
      </div>
      {error && <ErrorBanner error={error} />}
      <div className="tablewrap panel flush">
        <table aria-label="Audit entries">
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">Who</th>
              <th scope="col">Action</th>
              <th scope="col">Target</th>
              <th scope="col">Result</th>
            </tr>
          </thead>
          <tbody>
            {entries.map((e) => (
              <tr key={e.id}>
                <td>{new Date(e.ts).toLocaleString()}</td>
                <td>{e.actor}</td>
                <td>{e.action}</td>
                <td className="mono">{e.target ?? ''}</td>
                <td className={e.result === 'ok' ? 'ok' : 'warning'}>{e.result}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {entries.length === 0 && <EmptyState icon={ScrollText} title="No entries match">Choose another action or result, or show all of them.</EmptyState>}
      </div>
    </section>
  );
}
