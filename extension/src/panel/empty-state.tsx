/**
 * What the panel shows before there is anything to show: the first steps.
 */
import React from 'react';

/** Props of {@link EmptyState}. */
export interface IEmptyStateProps {
  /** Heading. */
  title: string;
  /** Whether to teach the tracking magics (true for the runs view). */
  teach?: boolean;
  /** Extra line below the heading. */
  hint?: string;
}

/** An empty state that teaches `%load_ext kernel_magics` and `%%mlops track`. */
export function EmptyState(props: IEmptyStateProps): JSX.Element {
  return (
    <div className="jp-mlops-empty">
      <p className="jp-mlops-empty-title">{props.title}</p>
      {props.hint && <p>{props.hint}</p>}
      {props.teach && (
        <>
          <p>
            Track a cell as a run: load the extension once, then mark a training
            cell.
          </p>
          <pre className="jp-mlops-code">
            {
              '%load_ext kernel_magics\n\n%%mlops track --experiment demo\nimport kernel_magics as mlops\nC = 0.1\nmlops.log_metric("acc", 0.93)'
            }
          </pre>
          <p>The run appears here as soon as the cell finishes.</p>
        </>
      )}
    </div>
  );
}
