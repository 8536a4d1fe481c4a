/**
 * The list side of a list | detail screen (Chats, Contacts): a header with the
 * screen's title (its h1) and an action, a search box (the one Ctrl/Cmd+F
 * focuses), optional tools under it, an error banner, and the scrolling list
 * — or, when the list has nothing at all, its empty state.
 *
 * The screen keeps the state (query, items, error); this only lays it out, so
 * both screens look and behave the same. Put it inside `.split-view`.
 */
import type { ReactNode } from 'react';
import { Search } from 'lucide-react';
import type { UiError } from '../errors';
import { ErrorBanner } from './ErrorBanner';
import './list-pane.css';

export interface ListPaneProps {
  /** The h1's text and id (the screen's `aria-labelledby`). */
  title: string;
  titleId: string;
  /** Beside the title, e.g. an icon button "New conversation". */
  action?: ReactNode;
  /** The search box: its accessible name ("Search contacts"), value and change handler. */
  search: { label: string; value: string; onChange: (value: string) => void };
  /** Under the header, above the list (e.g. the "Find someone" form); give it its own `.toolbar`. */
  tools?: ReactNode;
  error?: UiError | null;
  /** Shown instead of the list when set: the list has nothing at all (not just no search match). */
  empty?: ReactNode;
  /** Extra class on the scrolling body (a virtualized list wants a flex column that does not scroll itself). */
  bodyClassName?: string;
  /** The list itself. */
  children?: ReactNode;
}

export function ListPane({ title, titleId, action, search, tools, error, empty, bodyClassName, children }: ListPaneProps) {
  return (
    <div className="pane-list">
      <div className="toolbar list-pane-head">
        <div className="row">
          <h1 id={titleId} className="pane-title">
            {title}
          </h1>
          {action}
        </div>
        <div className="search-field">
          <Search size={16} aria-hidden="true" />
          <input type="search" data-search aria-label={search.label} placeholder="Search" value={search.value} onChange={(e) => search.onChange(e.target.value)} />
        </div>
      </div>
      {tools}
      {error && (
        <div className="list-pane-banner">
          <ErrorBanner error={error} />
        </div>
      )}
      <div className={bodyClassName ? `pane-list-body ${bodyClassName}` : 'pane-list-body'}>{empty || children}</div>
    </div>
  );
}
