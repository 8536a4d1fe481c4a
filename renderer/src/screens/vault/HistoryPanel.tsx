/** An item's earlier versions and open conflicts; a conflict is resolved by choosing a side (both stay in the history). */
import { useCallback, useEffect, useState } from 'react';
import type { Output } from '../../../../shared/contract';
import { sealpost } from '../../bridge';
import { ErrorBanner } from '../../components/ErrorBanner';
import type { UiError } from '../../errors';
import { call } from '../../lib/call';

type Revision = Output<'items:history'>[number];

export function HistoryPanel({ identifier, onResolved }: { identifier: string; onResolved: () => void }) {
  const [revisions, setRevisions] = useState<Revision[] | null>(null);
  const [error, setError] = useState<UiError | null>(null);

  const load = useCallback(async () => {
    const r = await call(sealpost.items.history({ identifier }));
    if (r.ok) setRevisions(r.value);
    else setError(r.error);
  }, [identifier]);

  useEffect(() => {
    void load();
  }, [load]);

  async function resolve(revisionId: number, keep: 'local' | 'remote') {
    const r = await call(sealpost.items.resolve({ identifier, revisionId, keep }));
    if (!r.ok) return setError(r.error);
    onResolved();
    void load();
  }

  return (
    <div className="stack" aria-label="History">
      <h3>History</h3>
      {error && <ErrorBanner error={error} />}
      {revisions && revisions.length === 0 && <p className="muted">No earlier versions.</p>}
      {revisions && revisions.length > 0 && (
        <table>
          <thead>
            <tr>
              <th scope="col">Version</th>
              <th scope="col">When</th>
              <th scope="col">Title</th>
              <th scope="col">Kind</th>
            </tr>
          </thead>
          <tbody>
            {revisions.map((r) => (
              <tr key={r.id}>
                <td>{r.version}</td>
                <td>{new Date(r.updatedAt).toLocaleString()}</td>
                <td>{r.deleted ? 'deleted' : (r.title ?? 'cannot be opened with your current key')}</td>
                <td>
                  {r.kind === 'conflict' && !r.resolved ? (
                    <span className="row">
                      <span className="tag tag-alarm">Conflict</span>
                      <button type="button" className="secondary" onClick={() => void resolve(r.id, 'local')}>
                        Keep mine
                      </button>
                      <button type="button" className="secondary" onClick={() => void resolve(r.id, 'remote')}>
                        Keep this one
                      </button>
                    </span>
                  ) : r.kind === 'conflict' ? (
                    'conflict (resolved)'
                  ) : (
                    'earlier version'
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
