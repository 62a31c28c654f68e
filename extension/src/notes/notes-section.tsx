/**
 * The Notes and History sections of an item's detail (a run, a model version, a deployment):
 * the notes with author and time, a box to add one (signed by the Jupyter user), and the
 * item's audit entries, newest first. Reloads every {@link RELOAD_MS} while shown, and with
 * the panel (`refreshKey`), so a colleague's note or change on a shared store shows up.
 *
 * {@link HistorySection} is the history alone, for an item without notes (a schedule, an
 * alert rule): the same list, reloaded whenever its `reloadOn` changes (the view passes data
 * the panel's poller replaces on every poll), so it follows the panel's refresh.
 */
import React, { useEffect, useMemo, useReducer, useState } from 'react';

import { MlopsAPI } from '../api';
import { relativeTime } from '../versions/versions-model';
import {
  HistoryKind,
  HistoryModel,
  INotedItem,
  NotesModel,
  describeEntry
} from './notes-model';

/** How often an open Notes section reloads on its own. */
const RELOAD_MS = 15_000;

/** Props of {@link NotesSection}. */
export interface INotesSectionProps extends INotedItem {
  /** Changes whenever the panel refreshes, so a colleague's note or change shows up. */
  refreshKey?: number;
}

/** Props of {@link HistoryList}. */
export interface IHistoryListProps {
  /** The entries, newest first. */
  history: MlopsAPI.IAuditEntry[];
  /** Whether the first load finished (before it, an empty list says nothing). */
  loaded: boolean;
  /** The heading. Default "History". */
  title?: string;
}

/** The heading and the list of an item's audit entries: who did what, and when. */
export function HistoryList(props: IHistoryListProps): JSX.Element {
  const { history, loaded } = props;
  return (
    <>
      <h4>{props.title ?? 'History'}</h4>
      {loaded && !history.length && (
        <p className="jp-mlops-muted">No recorded changes.</p>
      )}
      <ul className="jp-mlops-lineage jp-mlops-history" aria-label="history">
        {history.map(e => (
          <li key={e.id} data-audit-kind={e.kind} data-actor={e.actor}>
            {describeEntry(e)}{' '}
            <span
              className="jp-mlops-muted jp-mlops-history-time"
              title={new Date(e.at * 1000).toLocaleString()}
            >
              {relativeTime(e.at)}
            </span>
          </li>
        ))}
      </ul>
    </>
  );
}

/** Props of {@link HistorySection}. */
export interface IHistorySectionProps {
  /** What it is (a schedule, an alert rule...). */
  kind: HistoryKind;
  /** Its stored name. */
  target: string;
  /** The section reloads whenever this changes (by identity). */
  reloadOn?: unknown;
  /** The heading. Default "Changes". */
  title?: string;
}

/** The history alone of one item: who changed it, how, and when. */
export function HistorySection(props: IHistorySectionProps): JSX.Element {
  const model = useMemo(
    () => new HistoryModel({ kind: props.kind, target: props.target }),
    [props.kind, props.target]
  );
  const [, redraw] = useReducer((n: number) => n + 1, 0);
  useEffect(() => {
    model.onChange = redraw;
    return () => {
      model.onChange = null;
    };
  }, [model]);
  useEffect(() => {
    void model.load();
  }, [model, props.reloadOn]);
  const { history, loaded, error } = model.state;
  return (
    <section
      className="jp-mlops-item-history"
      aria-label={`${props.kind} changes`}
      data-history-kind={props.kind}
      data-history-target={props.target}
    >
      <HistoryList
        history={history}
        loaded={loaded}
        title={props.title ?? 'Changes'}
      />
      {error && (
        <div className="jp-mlops-error" role="alert">
          {error}
        </div>
      )}
    </section>
  );
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
      <HistoryList history={history} loaded={loaded} />
    </section>
  );
}
