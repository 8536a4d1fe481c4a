/**
 * Settings card "Your devices": the key service's list of this user's desktops,
 * and revoking another one (a lost or sold computer). A revoked device's requests
 * are refused from then on; what it already downloaded stays on it, and the card
 * says so before the user confirms.
 */
import { useCallback, useEffect, useState } from 'react';
import type { Output } from '../../../shared/contract';
import { sealpost } from '../bridge';
import { ErrorBanner } from '../components/ErrorBanner';
import type { UiError } from '../errors';
import { call } from '../lib/call';
import { totpAsked, totpInput, useTotpOn } from '../lib/totp';
import { TotpField } from '../components/TotpField';

type DeviceList = Output<'devices:list'>;
type Device = DeviceList['devices'][number];

const day = (iso: string) => new Date(iso).toLocaleString();
const shortId = (id: string) => `${id.slice(0, 4)}…${id.slice(-4)}`;

function DeviceRow({ device, onRevoke }: { device: Device; onRevoke: (d: Device) => void }) {
  const state = device.current ? 'This device' : device.revokedAt !== null ? `Revoked ${day(device.revokedAt)}` : 'Active';
  return (
    <li className="row" data-testid="device-row" data-device-id={device.deviceId}>
      <span className="mono" title={device.deviceId}>
        {shortId(device.deviceId)}
      </span>
      <span>{state}</span>
      <span className="muted">added {day(device.createdAt)}</span>
      <span className="muted">{device.deviceDid ? 'signs with its own device key' : 'no device key published'}</span>
      {!device.current && device.revokedAt === null && (
        <button type="button" className="secondary" onClick={() => onRevoke(device)} aria-label={`Revoke device ${shortId(device.deviceId)}`}>
          Revoke…
        </button>
      )}
    </li>
  );
}

export function Devices() {
  const [list, setList] = useState<DeviceList | null>(null);
  const [error, setError] = useState<UiError | null>(null);
  const [confirming, setConfirming] = useState<Device | null>(null);
  const [busy, setBusy] = useState(false);
  const [note, setNote] = useState<string | null>(null);
  const [unregistered, setUnregistered] = useState(false);
  const totpOn = useTotpOn();
  const [totp, setTotp] = useState('');

  const load = useCallback(async () => {
    const r = await call(sealpost.devices.list({}));
    if (r.ok) {
      setList(r.value);
      setError(null);
    } else if (r.error.details.startsWith('DeviceUnregistered')) {
      // Not an error here: the card says what to do instead.
      setList(null);
      setUnregistered(true);
    } else setError(r.error);
  }, []);

  useEffect(() => {
    void load();
  }, [load]);

  async function revoke(device: Device) {
    setBusy(true);
    const r = await call(sealpost.devices.revoke({ deviceId: device.deviceId, ...totpInput(totp) }));
    setBusy(false);
    setTotp('');
    // The key service asked for (another) authenticator code: keep the question open for it.
    if (!r.ok && totpAsked(r.error)) return setError(r.error);
    setConfirming(null);
    if (!r.ok) return setError(r.error);
    setNote(`Device ${shortId(device.deviceId)} is revoked.`);
    await load();
  }

  return (
    <section className="card" aria-labelledby="devices-title">
      <h2 id="devices-title">Your devices</h2>
      {unregistered && <p className="muted">Connect this device to a key service (below) to see your other devices.</p>}
      {list && (
        <>
          <ul className="plain devices" aria-label="Devices">
            {list.devices.map((d) => (
              <DeviceRow key={d.deviceId} device={d} onRevoke={setConfirming} />
            ))}
          </ul>
          <p className="muted">
            {list.agentTokens
              ? 'This device proves itself with short-lived tokens signed by its own device key.'
              : 'This device proves itself with a device token from the key service; register it again to publish its own device key.'}
          </p>
        </>
      )}
      {confirming && (
        <div role="alertdialog" aria-labelledby="revoke-device-title" className="notice">
          <h3 id="revoke-device-title">Revoke device {shortId(confirming.deviceId)}?</h3>
          <p>
            From now on the key service refuses everything it asks: it can no longer sync, send or read new messages. What it already downloaded stays on it: if it
            was lost, also rotate your keys and change your PIN on your other devices.
          </p>
          <TotpField value={totp} onChange={setTotp} show={totpOn || totpAsked(error)} />
          <div className="row">
            <button type="button" disabled={busy} onClick={() => void revoke(confirming)}>
              Revoke it
            </button>
            <button type="button" className="secondary" onClick={() => setConfirming(null)}>
              Cancel
            </button>
          </div>
        </div>
      )}
      {note && (
        <p className="ok" role="status">
          {note}
        </p>
      )}
      <button type="button" className="secondary" onClick={() => void load()}>
        Refresh
      </button>
      {error && <ErrorBanner error={error} />}
    </section>
  );
}
