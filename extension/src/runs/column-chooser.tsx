/**
 * The column chooser of the runs table: tick any metric or param of the page to show it.
 */
import React from 'react';

/** Props of {@link ColumnChooser}. */
export interface IColumnChooserProps {
  /** Metric names on the page. */
  metricKeys: string[];
  /** Param names on the page. */
  paramKeys: string[];
  /** Shown metric columns. */
  metricColumns: string[];
  /** Shown param columns. */
  paramColumns: string[];
  /** New choice (`metrics.acc`, `params.C`), or null for the defaults. */
  onChange: (chosen: string[] | null) => void;
}

/** A drop-down list of checkboxes, one per metric and param. */
export function ColumnChooser(props: IColumnChooserProps): JSX.Element {
  const shown = [
    ...props.metricColumns.map(k => `metrics.${k}`),
    ...props.paramColumns.map(k => `params.${k}`)
  ];
  const toggle = (column: string) =>
    props.onChange(
      shown.includes(column)
        ? shown.filter(c => c !== column)
        : [...shown, column]
    );
  const group = (title: string, prefix: string, keys: string[]) =>
    keys.length > 0 && (
      <fieldset className="jp-mlops-columns-group">
        <legend>{title}</legend>
        {keys.map(key => (
          <label key={key} className="jp-mlops-columns-item" title={key}>
            <input
              type="checkbox"
              checked={shown.includes(`${prefix}${key}`)}
              onChange={() => toggle(`${prefix}${key}`)}
            />
            <span className="jp-mlops-ellipsis">{key}</span>
          </label>
        ))}
      </fieldset>
    );
  return (
    <details className="jp-mlops-columns">
      <summary className="jp-mlops-button" title="Choose columns">
        Columns
      </summary>
      <div className="jp-mlops-columns-menu">
        {group('Metrics', 'metrics.', props.metricKeys)}
        {group('Params', 'params.', props.paramKeys)}
        {!props.metricKeys.length && !props.paramKeys.length && (
          <p className="jp-mlops-muted">No metrics or params on this page.</p>
        )}
        <button className="jp-mlops-link" onClick={() => props.onChange(null)}>
          Default columns
        </button>
      </div>
    </details>
  );
}
