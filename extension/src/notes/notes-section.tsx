/**
 * The Notes and History sections of an item's detail (a run, a model version, a deployment):
 * the notes with author and time, a box to add one (signed by the Jupyter user), and the
 * item's audit entries, newest first. Reloads every {@link RELOAD_MS} while shown, and with
 * the panel (`refreshKey`), so a colleague's note or change on a shared store shows up.
 */
import React, { useEffect, useMemo, useReducer, useState } from 'react';

import { relativeTime } from '../versions/versions-model';
import { INotedItem, NotesModel, describeEntry } from './notes-model';

/** How often an open section reloads on its own. */
const RELOAD_MS = 15_000;

/** Props of {@link NotesSection}. */
export interface INotesSectionProps extends INotedItem {
  /** Changes whenever the panel refreshes, so a colleague's note or change shows up. */
  refreshKey?: number;
}

/** Notes and History of one item. */
export function NotesSection(props: INotesSectionProps): JSX.Element {
  const model = useMemo(
    () => new NotesModel({ kind: props.kind, target: props.target }),
    [props.kind, props.target]
  );
  const [, redraw] = useReducer((n: number) => n + 1, 0);
  const [draft, setDraft] = useState('');
  useEffect(() => {
    model.onChange = redraw;
    const timer = window.setInterval(() => void model.load(), RELOAD_MS);
    return () => {
      window.clearInterval(timer);
      model.onChange = null;
    };
  }, [model]);
  useEffect(() => {
    void model.load();
  }, [model, props.refreshKey]);
  const { notes, history, loaded, error, saving } = model.state;
  const submit = async () => {
    if (await model.add(draft)) {
      setDraft('');
    }
  };
  return (
    <section className="jp-mlops-notes" aria-label="notes">
      <h4>Notes</h4>
      {loaded && !notes.length && <p className="jp-mlops-muted">none</p>}
      <ul className="jp-mlops-note-list">
        {notes.map(n => (
          <li key={n.id} className="jp-mlops-note-item">
            <p className="jp-mlops-note">{n.text}</p>
            <span className="jp-mlops-muted">
              {n.author} · {relativeTime(n.created_at)}
            </span>
          </li>
        ))}
      </ul>
      <div className="jp-mlops-note-add">
        <textarea
          className="jp-mlops-note-input"
          aria-label="new note"
          placeholder="Add a note (who reviewed it, what to watch, why it was chosen)…"
          rows={2}
          value={draft}
          onChange={e => setDraft(e.target.value)}
        />
        <button
          className="jp-mlops-button jp-mlops-add-note"
          disabled={saving || !draft.trim()}
          onClick={() => void submit()}
        >
          Add note
        </button>
      </div>
      {error && (
        <div className="jp-mlops-error" role="alert">
          {error}
        </div>
      )}
      <h4>History</h4>
      {loaded && !history.length && (
        <p className="jp-mlops-muted">No recorded changes.</p>
      )}
      <ul className="jp-mlops-lineage jp-mlops-history" aria-label="history">
        {history.map(e => (
          <li key={e.id} data-audit-kind={e.kind}>
            {describeEntry(e)}{' '}
            <span className="jp-mlops-muted">{relativeTime(e.at)}</span>
          </li>
        ))}
      </ul>
    </section>
  );
}
