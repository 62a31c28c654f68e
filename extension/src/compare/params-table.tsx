/**
 * Params or latest metric values of the compared runs side by side, one column per run;
 * rows that differ are marked (the server lists them first).
 */
import React from 'react';

import { MlopsAPI } from '../api';
import { formatValue } from '../runs/runs-model';

/** Props of {@link ComparedTable}. */
export interface IComparedTableProps {
  /** Table caption. */
  title: string;
  /** The runs, baseline first. */
  runs: MlopsAPI.IComparedRun[];
  /** Run id -> label. */
  labels: Record<string, string>;
  /** Rows: a key, each run's value, whether they differ. */
  rows: (MlopsAPI.IComparedValue | MlopsAPI.IComparedMetric)[];
  /** Extra cell at the end of each row (the metric chart toggle). */
  extra?: (key: string) => React.ReactNode;
}

/** A key-by-run table. */
export function ComparedTable(props: IComparedTableProps): JSX.Element {
  if (!props.rows.length) {
    return <p className="jp-mlops-muted">none</p>;
  }
  return (
    <div className="jp-mlops-table-scroll jp-mlops-compare-scroll">
      <table
        className="jp-mlops-table jp-mlops-compare-table"
        aria-label={props.title}
      >
        <thead>
          <tr>
            <th className="jp-mlops-sticky jp-mlops-compare-key">
              {props.title}
            </th>
            {props.runs.map(r => (
              <th key={r.id} title={r.id}>
                <span className="jp-mlops-ellipsis">{props.labels[r.id]}</span>
              </th>
            ))}
            {props.extra && <th />}
          </tr>
        </thead>
        <tbody>
          {props.rows.map(row => (
            <tr
              key={row.key}
              className={row.differs ? 'jp-mlops-differs' : undefined}
              data-key={row.key}
            >
              <th
                className="jp-mlops-sticky jp-mlops-compare-key"
                title={row.key}
              >
                <span className="jp-mlops-ellipsis">{row.key}</span>
              </th>
              {props.runs.map(r => {
                const value = row.values[r.id];
                const text =
                  typeof value === 'number' ? formatValue(value) : value;
                return (
                  <td
                    key={r.id}
                    className={
                      typeof value === 'number' ? 'jp-mlops-number' : undefined
                    }
                    title={value === undefined ? 'not logged' : String(value)}
                  >
                    {value === undefined ? (
                      <span className="jp-mlops-muted">–</span>
                    ) : (
                      text
                    )}
                  </td>
                );
              })}
              {props.extra && <td>{props.extra(row.key)}</td>}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
