import { useEffect, useState } from 'react';
import type { Output } from '../../../shared/contract';
import { sealpost } from '../bridge';
import { describeError, type UiError } from '../errors';
import { ErrorBanner } from '../components/ErrorBanner';

type Identity = Output<'identity:get'>;
type AuditEntry = Output<'audit:list'>[number];

const toBase64 = (text: string) => btoa(String.fromCharCode(...new TextEncoder().encode(text)));
const fromBase64 = (b64: string) => new TextDecoder().decode(Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)));

export function Home({ status, onChange }: { status: Output<'engine:status'>; onChange: () => void }) {
  const [identity, setIdentity] = useState<Identity | null>(null);
  const [text, setText] = useState('');
  const [sealed, setSealed] = useState('');
  const [opened, setOpened] = useState('');
  const [audit, setAudit] = useState<AuditEntry[]>([]);
  const [chain, setChain] = useState<Output<'audit:verify'> | null>(null);
  const [error, setError] = useState<UiError | null>(null);

  async function loadAudit() {
    const [list, verify] = await Promise.all([sealpost.audit.list({ limit: 50 }), sealpost.audit.verify({})]);
    if (list.code === 0) setAudit(list.value);
    if (verify.code === 0) setChain(verify.value);
  }

  useEffect(() => {
    void sealpost.identity.get({}).then((r) => (r.code === 0 ? setIdentity(r.value) : setError(describeError(r))));
    void loadAudit();
  }, []);

  async function encrypt() {
    const r = await sealpost.vault.encrypt({ data: toBase64(text) });
    if (r.code === 0) {
      setSealed(r.value[0]);
      setError(null);
    } else setError(describeError(r));
    void loadAudit();
  }

  async function decrypt() {
    const r = await sealpost.vault.decrypt({ data: sealed.trim() });
    if (r.code === 0) {
      setOpened(fromBase64(r.value[0]));
      setError(null);
    } else setError(describeError(r));
    void loadAudit();
  }

  async function lock() {
    await sealpost.session.lock({});
    onChange();
  }

  return (
    <div className="grid">
      <section className="card">
        <h2>Your identity</h2>
        {status.pinDisabled && <p className="warning">No PIN is set: anyone using this computer account can open your keys.</p>}
        {identity && (
          <dl>
            <dt>DID</dt>
            <dd className="mono">{identity.did}</dd>
            <dt>Safety number</dt>
            <dd className="mono" data-testid="safety-number">{identity.safetyNumber}</dd>
            <dt>Encryption key</dt>
            <dd>RSA-{identity.rsaBits}</dd>
          </dl>
        )}
        <button onClick={lock}>Lock now</button>
      </section>
      <section className="card">
        <h2>Encrypt on this device</h2>
        <label>
          Text
          <textarea value={text} onChange={(e) => setText(e.target.value)} rows={3} />
        </label>
        <button onClick={encrypt} disabled={!text}>Encrypt</button>
        <label>
          Ciphertext
          <textarea className="mono" value={sealed} onChange={(e) => setSealed(e.target.value)} rows={3} />
        </label>
        <button onClick={decrypt} disabled={!sealed}>Decrypt</button>
        {opened && <p data-testid="opened">{opened}</p>}
        {error && <ErrorBanner error={error} />}
      </section>
      <section className="card wide">
        <h2>Audit log</h2>
        {chain && (
          <p className={chain.ok ? 'ok' : 'alarm'} role={chain.ok ? undefined : 'alert'}>
            {chain.ok ? `Chain verified (${chain.entries} entries).` : `Audit chain broken at entry ${chain.firstBadId ?? '?'}: ${chain.reason ?? ''}`}
          </p>
        )}
        <table>
          <thead>
            <tr><th>When</th><th>Action</th><th>Target</th><th>Result</th></tr>
          </thead>
          <tbody>
            {audit.map((e) => (
              <tr key={e.id}><td>{new Date(e.ts).toLocaleString()}</td><td>{e.action}</td><td className="mono">{e.target ?? ''}</td><td>{e.result}</td></tr>
            ))}
          </tbody>
        </table>
      </section>
    </div>
  );
}
