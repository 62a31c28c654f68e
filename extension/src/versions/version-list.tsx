/**
 * The notebook's version history: time, short hash, the runs that used each version; pick two
 * (or one and "the notebook now") to compare; restore one as a new file.
 */
import React from 'react';

import { DiffSide, IVersionsState, relativeTime } from './versions-model';

/** Props of {@link VersionList}. */
export interface IVersionListProps {
  /** The versions view's state. */
  state: IVersionsState;
  /** Pick or unpick a side. */
  onToggle: (side: DiffSide) => void;
  /** Compare the two picked sides. */
  onCompare: () => void;
  /** Restore a version. */
  onRestore: (versionId: number) => void;
  /** Open one of the runs that used a version. */
  onOpenRun: (runId: string) => void;
}

/** The list of versions with checkboxes. */
export function VersionList(props: IVersionListProps): JSX.Element {
  const { state } = props;
  const picked = (side: DiffSide) => state.selected.includes(side);
  return (
    <div className="jp-mlops-versions">
      <div className="jp-mlops-toolbar">
        <span className="jp-mlops-muted">
          Pick two to compare ({state.selected.length}/2)
        </span>
        <button
          className="jp-mlops-button jp-mlops-primary"
          disabled={state.selected.length !== 2}
          onClick={props.onCompare}
        >
          Compare
        </button>
      </div>
      {state.error && <div className="jp-mlops-error">{state.error}</div>}
      <ul className="jp-mlops-version-list">
        <li className="jp-mlops-version" data-version="current">
          <label>
            <input
              type="checkbox"
              checked={picked('current')}
              onChange={() => props.onToggle('current')}
            />{' '}
            <strong>The notebook now</strong>{' '}
            <span className="jp-mlops-muted">(as saved on disk)</span>
          </label>
        </li>
        {state.versions.map(v => (
          <li key={v.id} className="jp-mlops-version" data-version={v.id}>
            <label>
              <input
                type="checkbox"
                checked={picked(v.id)}
                onChange={() => props.onToggle(v.id)}
              />{' '}
              <strong>v{v.id}</strong> <code>{v.short_hash}</code>{' '}
              <span
                className="jp-mlops-muted"
                title={new Date(v.created_at * 1000).toString()}
              >
                {relativeTime(v.created_at)}
              </span>
            </label>
            <div className="jp-mlops-version-runs">
              {v.run_ids.length === 0 && (
                <span className="jp-mlops-muted">no runs</span>
              )}
              {v.run_ids.slice(0, 5).map(id => (
                <button
                  key={id}
                  className="jp-mlops-link"
                  onClick={() => props.onOpenRun(id)}
                >
                  {id.slice(0, 8)}
                </button>
              ))}
              {v.run_ids.length > 5 && (
                <span className="jp-mlops-muted">
                  +{v.run_ids.length - 5} more
                </span>
              )}
              <button
                className="jp-mlops-button"
                title="Write this version to a new file next to the notebook"
                onClick={() => props.onRestore(v.id)}
              >
                Restore as copy
              </button>
            </div>
          </li>
        ))}
      </ul>
    </div>
  );
}
