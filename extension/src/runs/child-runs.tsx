/**
 * The "Part of" line and the "Child runs" section of a run's detail: an automation's steps or
 * a sweep's trials, each opening its own detail.
 */
import React, { useEffect, useRef, useState } from 'react';

import { IRelatedRun, IRunFamily, loadFamily } from './child-runs-model';
import { formatDuration } from './runs-model';

/** Props of {@link RunFamily}. */
export interface IRunFamilyProps {
  /** The run whose family to show. */
  run: { id: string; parent_run_id: string | null };
  /** Changes whenever the panel refreshes, so running steps update. */
  refreshKey: number;
  /** Open another run's detail. */
  onOpenRun: (runId: string) => void;
}

function RelatedButton(props: {
  run: IRelatedRun;
  onOpenRun: (runId: string) => void;
}): JSX.Element {
  return (
    <button
      className="jp-mlops-link jp-mlops-ellipsis"
      title={`Open ${props.run.label}`}
      onClick={() => props.onOpenRun(props.run.id)}
    >
      {props.run.label}
    </button>
  );
}

/** The parent link (when the run has one) and the list of child runs (when it has any). */
export function RunFamily(props: IRunFamilyProps): JSX.Element | null {
  // Kept with the run it was loaded for: opening another run never shows the last one's
  // family, while a refresh of the same run keeps it on screen until the new answer.
  const [loaded, setLoaded] = useState<{
    runId: string;
    family: IRunFamily | null;
  } | null>(null);
  // Failed children's error lines, fetched once across refreshes (a failed run stays failed).
  const errors = useRef<Record<string, string>>({});
  const { id, parent_run_id } = props.run;
  useEffect(() => {
    let cancelled = false;
    loadFamily({ id, parent_run_id }, errors.current).then(
      family => !cancelled && setLoaded({ runId: id, family }),
      () => !cancelled && setLoaded({ runId: id, family: null })
    );
    return () => {
      cancelled = true;
    };
  }, [id, parent_run_id, props.refreshKey]);
  const family = loaded?.runId === id ? loaded.family : null;
  if (!family) {
    return null;
  }
  return (
    <>
      {family.parent && (
        <p className="jp-mlops-run-parent">
          Part of{' '}
          <span
            className={`jp-mlops-status jp-mlops-status-${family.parent.status}`}
          >
            {family.parent.status}
          </span>{' '}
          <RelatedButton run={family.parent} onOpenRun={props.onOpenRun} />
        </p>
      )}
      {family.total > 0 && (
        <section className="jp-mlops-child-runs">
          <h4>Child runs ({family.total})</h4>
          <ul className="jp-mlops-child-list">
            {family.children.map(child => (
              <li key={child.id} className="jp-mlops-child-run">
                <div className="jp-mlops-child-line">
                  <span
                    className={`jp-mlops-status jp-mlops-status-${child.status}`}
                  >
                    {child.status}
                  </span>
                  <RelatedButton run={child} onOpenRun={props.onOpenRun} />
                  <span className="jp-mlops-muted">
                    {formatDuration(child.duration)}
                  </span>
                </div>
                {child.error && (
                  <div className="jp-mlops-row-error" title={child.error}>
                    {child.error}
                  </div>
                )}
              </li>
            ))}
          </ul>
          {family.total > family.children.length && (
            <p className="jp-mlops-muted">
              The first {family.children.length} of {family.total}: filter the
              runs table with <code>parent_run_id = &apos;{id}&apos;</code> for
              all of them.
            </p>
          )}
        </section>
      )}
    </>
  );
}
