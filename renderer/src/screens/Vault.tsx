/**
 * The vault: notes and files, each sealed on this device as one item. A list
 * (with search over titles, which the engine decrypts for us), the open item,
 * and offline file encryption (IDENTOS encrypt/decrypt) for files that should
 * leave the device sealed. Items sync with the key service when the screen
 * opens; after that the engine pulls on the key service's pushes and says so
 * with `items` events, on which the list reloads.
 */
import { useCallback, useEffect, useState } from 'react';
import type { Output } from '../../../shared/contract';
import { sealpost } from '../bridge';
import { ErrorBanner } from '../components/ErrorBanner';
import type { UiError } from '../errors';
import { formatSize } from '../lib/base64';
import { call } from '../lib/call';
import { useRefreshOn } from '../lib/events';
import { FileTools } from './vault/FileTools';
import { ItemEditor, NewItem } from './vault/ItemEditor';

type Summary = Output<'items:list'>[number];
type Mode = { kind: 'none' } | { kind: 'open'; identifier: string } | { kind: 'new'; itemKind: 'note' | 'file' };

export function Vault() {
  const [items, setItems] = useState<Summary[]>([]);
  const [filter, setFilter] = useState('');
  const [mode, setMode] = useState<Mode>({ kind: 'none' });
  const [error, setError] = useState<UiError | null>(null);

  const [syncNote, setSyncNote] = useState<string | null>(null);

  const load = useCallback(async () => {
    const r = await call(sealpost.items.list({}));
    if (r.ok) setItems(r.value);
    else setError(r.error);
  }, []);

  /** Items and grants through the key service; unregistered or offline, the vault keeps working locally. */
  const sync = useCallback(async () => {
    const r = await call(sealpost.items.sync({}));
    if (r.ok) {
      setSyncNote(r.value.revoked > 0 ? `${r.value.revoked} shared item(s) were revoked by their owner.` : null);
      await load();
    } else if (!r.error.details.startsWith('DeviceUnregistered')) setSyncNote(`Not synced: ${r.error.text}`);
  }, [load]);

  useEffect(() => {
    void load().then(sync);
  }, [load, sync]);
  useRefreshOn('items', load);

  const shown = items.filter((i) => i.title.toLowerCase().includes(filter.trim().toLowerCase()));

  return (
    <div className="split">
      <section className="card list-pane" aria-labelledby="vault-title">
        <h2 id="vault-title">Vault</h2>
        <div className="row">
          <button type="button" onClick={() => setMode({ kind: 'new', itemKind: 'note' })}>
            New note
          </button>
          <button type="button" className="secondary" onClick={() => setMode({ kind: 'new', itemKind: 'file' })}>
            Add file
          </button>
        </div>
        <button type="button" className="secondary" onClick={() => void sync()}>
          Sync items
        </button>
        {syncNote && (
          <p className="muted small" role="status">
            {syncNote}
          </p>
        )}
        <label>
          Search titles
          <input type="search" value={filter} onChange={(e) => setFilter(e.target.value)} />
        </label>
        {error && <ErrorBanner error={error} />}
        {items.length === 0 && <p className="muted">Nothing here yet. Notes and files you add are sealed on this device.</p>}
        <ul className="itemlist" aria-label="Items">
          {shown.map((item) => (
            <li key={item.identifier}>
              <button
                type="button"
                className="itembtn"
                aria-current={mode.kind === 'open' && mode.identifier === item.identifier ? 'true' : undefined}
                onClick={() => setMode({ kind: 'open', identifier: item.identifier })}
              >
                <span className="itemtitle">{item.title}</span>
                <span className="muted small">
                  {item.kind === 'note' ? 'Note' : item.kind === 'file' ? 'File' : 'Sealed data'} · {formatSize(item.size)} · v{item.version}
                </span>
                <span className="tags">
                  {!item.mine && (
                    <span className="tag">
                      Shared by {item.sharedBy ?? item.owner} · {item.role === 'edit' ? 'can edit' : 'read only'}
                    </span>
                  )}
                  {item.revoked && <span className="tag tag-alarm">Access revoked</span>}
                  {item.sharedWith > 0 && <span className="tag">Shared with {item.sharedWith}</span>}
                  {item.dirty && <span className="tag">Not synced</span>}
                  {item.conflicts > 0 && <span className="tag tag-alarm">Conflict</span>}
                </span>
              </button>
            </li>
          ))}
        </ul>
      </section>
      <div className="detail-pane">
        {mode.kind === 'new' && (
          <NewItem
            kind={mode.itemKind}
            onCancel={() => setMode({ kind: 'none' })}
            onCreated={(id) => {
              void load();
              setMode({ kind: 'open', identifier: id });
            }}
          />
        )}
        {mode.kind === 'open' && (
          <ItemEditor
            // Opened again when a sync finds our access revoked, so the editor says so at once.
            key={`${mode.identifier}:${items.find((i) => i.identifier === mode.identifier)?.revoked ? 'revoked' : 'ok'}`}
            identifier={mode.identifier}
            onChanged={() => void load()}
            onDeleted={() => {
              setMode({ kind: 'none' });
              void load();
            }}
          />
        )}
        {mode.kind === 'none' && <FileTools onChanged={() => void load()} />}
      </div>
    </div>
  );
}
