/** The vault's list: filters, sort, and one row per item with its kind, size, version and sharing state. */
import { File, FileText, Lock } from 'lucide-react';
import type { Output } from '../../../../shared/contract';
import { formatSize } from '../../lib/base64';

type Summary = Output<'items:list'>[number];

export type Filter = 'all' | 'notes' | 'files' | 'shared-with-me' | 'shared-by-me';
export type Sort = 'recent' | 'title' | 'oldest';

export const FILTERS: { id: Filter; label: string }[] = [
  { id: 'all', label: 'All' },
  { id: 'notes', label: 'Notes' },
  { id: 'files', label: 'Files' },
  { id: 'shared-with-me', label: 'Shared with me' },
  { id: 'shared-by-me', label: 'Shared by me' },
];

export const SORTS: { id: Sort; label: string }[] = [
  { id: 'recent', label: 'Recently changed' },
  { id: 'title', label: 'Title A–Z' },
  { id: 'oldest', label: 'Oldest change first' },
];

const MATCH: Record<Filter, (i: Summary) => boolean> = {
  all: () => true,
  notes: (i) => i.kind === 'note',
  files: (i) => i.kind === 'file' || i.kind === 'data',
  'shared-with-me': (i) => !i.mine,
  'shared-by-me': (i) => i.mine && i.sharedWith > 0,
};

const time = (i: Summary) => Date.parse(i.updatedAt) || 0;
const ORDER: Record<Sort, (a: Summary, b: Summary) => number> = {
  recent: (a, b) => time(b) - time(a) || a.title.localeCompare(b.title),
  oldest: (a, b) => time(a) - time(b) || a.title.localeCompare(b.title),
  title: (a, b) => a.title.localeCompare(b.title, undefined, { sensitivity: 'base' }) || time(b) - time(a),
};

export function visibleItems(items: Summary[], { query, filter, sort }: { query: string; filter: Filter; sort: Sort }): Summary[] {
  const q = query.trim().toLowerCase();
  return items.filter((i) => MATCH[filter](i) && (!q || i.title.toLowerCase().includes(q))).sort(ORDER[sort]);
}

function kindLabel(item: Summary): string {
  return item.kind === 'note' ? 'Note' : item.kind === 'file' ? 'File' : 'Sealed data';
}

export function VaultList({ items, openId, onOpen }: { items: Summary[]; openId: string | null; onOpen: (identifier: string) => void }) {
  return (
    <ul className="list" aria-label="Items">
      {items.map((item) => {
        const Icon = item.kind === 'note' ? FileText : item.kind === 'file' ? File : Lock;
        return (
          <li key={item.identifier}>
            <button type="button" className="list-row" aria-current={openId === item.identifier ? 'true' : undefined} onClick={() => onOpen(item.identifier)}>
              <span className="item-icon" aria-hidden="true">
                <Icon size={18} />
              </span>
              <span className="row-main">
                <span className="row-title">{item.title}</span>
                <span className="row-sub">
                  {kindLabel(item)} · {formatSize(item.size)} · v{item.version}
                </span>
                <span className="tags">
                  {!item.mine && (
                    <span className="tag tag-accent">
                      Shared by {item.sharedBy ?? item.owner} · {item.role === 'edit' ? 'can edit' : 'read only'}
                    </span>
                  )}
                  {item.revoked && <span className="tag tag-alarm">Access revoked</span>}
                  {item.sharedWith > 0 && <span className="tag">Shared with {item.sharedWith}</span>}
                  {item.dirty && <span className="tag tag-warn">Not synced</span>}
                  {item.conflicts > 0 && <span className="tag tag-alarm">Conflict</span>}
                </span>
              </span>
            </button>
          </li>
        );
      })}
    </ul>
  );
}
