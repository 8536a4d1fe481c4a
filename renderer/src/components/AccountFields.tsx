/**
 * The fields a new device asks for to find its user on a key service (restore,
 * link): user name, key service URL, app id, client key, and the optional server
 * key that lets it register itself right away.
 */
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
  return (
    <>
      <label>
        Your user name
        <input value={value.username} onChange={set('username')} required autoComplete="username" autoFocus />
      </label>
      <label>
        Key service URL
        <input type="url" value={value.server} onChange={set('server')} required />
      </label>
      <label>
        App id
        <input value={value.appId} onChange={set('appId')} required autoComplete="off" />
      </label>
      <label>
        Client key
        <input type="password" value={value.clientKey} onChange={set('clientKey')} required autoComplete="off" />
      </label>
      <label>
        Server key <span className="muted small">({serverKeyHint})</span>
        <input type="password" value={value.serverKey} onChange={set('serverKey')} autoComplete="off" />
      </label>
    </>
  );
}
