/**
 * The fields a new device asks for to find its user on a key service (restore,
 * link): user name, key service URL, app id, client key, and the optional server
 * key that lets it register itself right away.
 * A managed policy's key service, app id and client key are filled in and read-only.
 */
import { useEffect } from 'react';
import { usePolicySetting } from '../lib/policy';
import { Managed } from './Managed';

export interface Account {
  username: string;
  server: string;
  appId: string;
  clientKey: string;
  serverKey: string;
}

export const NEW_ACCOUNT: Account = { username: '', server: 'http://127.0.0.1:8787', appId: '', clientKey: '', serverKey: '' };

export function AccountFields({ value, onChange, serverKeyHint }: { value: Account; onChange: (next: Account) => void; serverKeyHint: string }) {
  const set = (field: keyof Account) => (e: { target: { value: string } }) => onChange({ ...value, [field]: e.target.value });
  const server = usePolicySetting<string>('keyServiceUrl');
  const appId = usePolicySetting<string>('appId');
  const clientKey = usePolicySetting<string>('clientKey');
  // What the managed policy sets is filled in (and read-only): the engine refuses any other key service.
  const preset = {
    ...(server.value !== undefined && { server: server.value }),
    ...(appId.value !== undefined && { appId: appId.value }),
    ...(typeof clientKey.value === 'string' && clientKey.value.length >= 8 && { clientKey: clientKey.value }),
  };
  const stale = Object.entries(preset).some(([k, v]) => value[k as keyof Account] !== v);
  useEffect(() => {
    if (stale) onChange({ ...value, ...preset });
  });
  return (
    <>
      <label>
        Your user name
        <input value={value.username} onChange={set('username')} required autoComplete="username" autoFocus />
      </label>
      <label>
        <span>Key service URL{server.locked && <Managed />}</span>
        <input type="url" value={value.server} onChange={set('server')} required readOnly={server.locked} />
      </label>
      <label>
        <span>App id{appId.locked && <Managed />}</span>
        <input value={value.appId} onChange={set('appId')} required autoComplete="off" readOnly={appId.locked} />
      </label>
      <label>
        <span>Client key{'clientKey' in preset && <Managed />}</span>
        <input type="password" value={value.clientKey} onChange={set('clientKey')} required autoComplete="off" readOnly={'clientKey' in preset} />
      </label>
      <label>
        Server key <span className="muted small">({serverKeyHint})</span>
        <input type="password" value={value.serverKey} onChange={set('serverKey')} autoComplete="off" />
      </label>
    </>
  );
}
