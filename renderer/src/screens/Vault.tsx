/**
 * The vault: notes and files, each sealed on this device as one item. A list
 * with kind filters (notes, files, shared with me, shared by me), sort and
 * search over titles (which the engine decrypts for us); the open item in the
 * detail pane; offline file encryption (IDENTOS encrypt/decrypt) in its own
 * place. Items sync with the key service when the screen opens; after that
 * the engine pulls on the key service's pushes and says so with `items`
 * events, on which the list reloads.
 */
import { useCallback, useEffect, useState } from 'react';
import { ArrowLeft, FileLock2, FilePlus, KeyRound, NotebookPen, RefreshCw, Search } from 'lucide-react';
import type { Output } from '../../../shared/contract';
import { sealpost } from '../bridge';
import { EmptyState } from '../components/EmptyState';
import { ErrorBanner } from '../components/ErrorBanner';
import type { UiError } from '../errors';
import { call } from '../lib/call';
import { useRefreshOn } from '../lib/events';
import { FileTools } from './vault/FileTools';
import { ItemEditor } from './vault/ItemEditor';
import { NewItem } from './vault/NewItem';
import { FILTERS, SORTS, VaultList, visibleItems, type Filter, type Sort } from './vault/VaultList';

type Summary = Output<'items:list'>[number];
type Mode = { kind: 'none' } | { kind: 'open'; identifier: string } | { kind: 'new'; itemKind: 'note' | 'file' } | { kind: 'files' };

export function Vault() {
  const [items, setItems] = useState<Summary[]>([]);
  const [loaded, setLoaded] = useState(false);
  const [query, setQuery] = useState('');
  const [filter, setFilter] = useState<Filter>('all');
  const [sort, setSort] = useState<Sort>('recent');
  const [mode, setMode] = useState<Mode>({ kind: 'none' });
  const [error, setError] = useState<UiError | null>(null);
  const [syncing, setSyncing] = useState(false);
  const [syncNote, setSyncNote] = useState<string | null>(null);

  const load = useCallback(async () => {
    const r = await call(sealpost.items.list({}));
    if (r.ok) setItems(r.value);
    else setError(r.error);
    setLoaded(true);
  }, []);

  /** Items and grants through the key service; unregistered or offline, the vault keeps working locally. */
  const sync = useCallback(async () => {
    setSyncing(true);
    const r = await call(sealpost.items.sync({}));
    setSyncing(false);
    if (r.ok) {
      setSyncNote(r.value.revoked > 0 ? `${r.value.revoked} shared item(s) were revoked by their owner.` : null);
      await load();
    } else if (!r.error.details.startsWith('DeviceUnregistered')) setSyncNote(`Not synced: ${r.error.text}`);
  }, [load]);

  useEffect(() => {
    void load().then(sync);
  }, [load, sync]);
  useRefreshOn('items', load);

  const shown = visibleItems(items, { query, filter, sort });
  const openId = mode.kind === 'open' ? mode.identifier : null;

  return (
    <div className={`split-view${mode.kind === 'none' ? '' : ' show-detail'}`}>
      <section className="pane-list" aria-labelledby="vault-title">
        <header className="pane-header">
          <h1 id="vault-title">Vault</h1>
          <button type="button" className="icon-btn" aria-label={syncing ? 'Syncing items…' : 'Sync items'} title="Sync items" onClick={() => void sync()} disabled={syncing}>
            <RefreshCw size={18} aria-hidden="true" className={syncing ? 'spin' : undefined} />
          </button>
        </header>
        <div className="toolbar">
          <div className="row">
            <button type="button" className="small" onClick={() => setMode({ kind: 'new', itemKind: 'note' })}>
              <NotebookPen size={16} aria-hidden="true" />
              New note
            </button>
            <button type="button" className="secondary small" onClick={() => setMode({ kind: 'new', itemKind: 'file' })}>
              <FilePlus size={16} aria-hidden="true" />
              Add file
            </button>
          </div>
          <div className="search-field">
            <Search size={16} aria-hidden="true" />
            <input type="search" aria-label="Search titles" placeholder="Search titles" value={query} onChange={(e) => setQuery(e.target.value)} data-search />
          </div>
          <div className="chips" role="group" aria-label="Show">
            {FILTERS.map((f) => (
              <button key={f.id} type="button" className="chip" aria-pressed={filter === f.id} onClick={() => setFilter(f.id)}>
                {f.label}
              </button>
            ))}
          </div>
          <label className="sort-label">
            Sort
            <select value={sort} onChange={(e) => setSort(e.target.value as Sort)}>
              {SORTS.map((s) => (
                <option key={s.id} value={s.id}>
                  {s.label}
                </option>
              ))}
            </select>
          </label>
        </div>
        <div className="pane-list-body">
          {syncNote && (
            <p className="notice small list-note" role="status">
              {syncNote}
            </p>
          )}
          {error && <ErrorBanner error={error} />}
          {loaded && items.length === 0 ? (
            <EmptyState icon={KeyRound} title="Nothing here yet">
              Add a note or a file: it is sealed on this device before it is saved, and syncs to your other desktops.
            </EmptyState>
          ) : (
            loaded &&
            shown.length === 0 && (
              <EmptyState icon={Search} title="Nothing matches">
                Try another word, or show all items.
              </EmptyState>
            )
          )}
          <VaultList items={shown} openId={openId} onOpen={(identifier) => setMode({ kind: 'open', identifier })} />
        </div>
        <div className="pane-foot">
          <button type="button" className={`ghost block${mode.kind === 'files' ? ' active' : ''}`} aria-current={mode.kind === 'files' ? 'true' : undefined} onClick={() => setMode({ kind: 'files' })}>
            <FileLock2 size={18} aria-hidden="true" />
            Offline file encryption
          </button>
        </div>
      </section>
      <div className="pane-detail">
        <div className="pane-body">
          {mode.kind !== 'none' && (
            <button type="button" className="ghost small back-btn" onClick={() => setMode({ kind: 'none' })}>
              <ArrowLeft size={16} aria-hidden="true" />
              All items
            </button>
          )}
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
          {mode.kind === 'files' && <FileTools onChanged={() => void load()} />}
          {mode.kind === 'none' && (
            <EmptyState icon={KeyRound} title="Choose an item">
              Pick a note or file on the left to open it, or make one with New note or Add file. Everything here is sealed with your key; only you and the people you share an item with can open it.
            </EmptyState>
          )}
        </div>
      </div>
    </div>
  );
}
