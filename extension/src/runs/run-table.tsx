/**
 * The runs table: status in colour, start, duration, key metrics and params; sortable headers,
 * a filter box and a pager (one page in the DOM, so 10,000 runs stay smooth).
 */
import React, { useEffect, useState } from 'react';

import { MlopsAPI } from '../api';
import {
  IRunsState,
  ISortKey,
  elapsed,
  formatDuration,
  formatValue
} from './runs-model';

/** Props of {@link RunTable}. */
export interface IRunTableProps {
  /** The runs view's state. */
  state: IRunsState;
  /** Number of pages. */
  pageCount: number;
  /** Sort by a column. */
  onSort: (entity: ISortKey['entity'], key: string) => void;
  /** Apply a filter. */
  onFilter: (filter: string) => void;
  /** Go to a page. */
  onPage: (page: number) => void;
  /** Open a run. */
  onOpen: (run: MlopsAPI.IRunSummary) => void;
}

function startLabel(epoch: number): string {
  const date = new Date(epoch * 1000);
  const today = new Date();
  return date.toDateString() === today.toDateString()
    ? date.toLocaleTimeString()
    : date.toLocaleString();
}

function SortHeader(props: {
  label: string;
  entity: ISortKey['entity'];
  column: string;
  sort: ISortKey;
  onSort: IRunTableProps['onSort'];
}): JSX.Element {
  const active =
    props.sort.entity === props.entity && props.sort.key === props.column;
  const arrow = active ? (props.sort.descending ? ' ▾' : ' ▴') : '';
  return (
    <th
      className={active ? 'jp-mlops-sorted' : undefined}
      aria-sort={
        active ? (props.sort.descending ? 'descending' : 'ascending') : 'none'
      }
    >
      <button
        className="jp-mlops-sort"
        title={`Sort by ${props.label}`}
        onClick={() => props.onSort(props.entity, props.column)}
      >
        {props.label}
        {arrow}
      </button>
    </th>
  );
}

/** The table of one page of runs. */
export function RunTable(props: IRunTableProps): JSX.Element {
  const { state } = props;
  const [filter, setFilter] = useState(state.filter);
  useEffect(() => setFilter(state.filter), [state.filter]);
  const header = (
    label: string,
    entity: ISortKey['entity'],
    column: string
  ) => (
    <SortHeader
      key={`${entity}.${column}`}
      label={label}
      entity={entity}
      column={column}
      sort={state.sort}
      onSort={props.onSort}
    />
  );
  const first = state.total ? state.page * state.pageSize + 1 : 0;
  const last = Math.min(state.total, (state.page + 1) * state.pageSize);
  return (
    <div className="jp-mlops-runs">
      <form
        className="jp-mlops-filter"
        onSubmit={event => {
          event.preventDefault();
          props.onFilter(filter);
        }}
      >
        <input
          className="jp-mlops-input"
          type="search"
          placeholder="Filter, e.g. metrics.acc > 0.9 and params.C = '0.1'"
          aria-label="Filter runs"
          value={filter}
          onChange={event => setFilter(event.target.value)}
        />
      </form>
      {state.error && (
        <div className="jp-mlops-error jp-mlops-filter-error" role="alert">
          {state.error}
        </div>
      )}
      <div className="jp-mlops-table-scroll">
        <table className="jp-mlops-table">
          <thead>
            <tr>
              {header('Status', 'attributes', 'status')}
              {header('Run', 'attributes', 'name')}
              {header('Start', 'attributes', 'start_time')}
              <th>Duration</th>
              {state.metricColumns.map(k => header(k, 'metrics', k))}
              {state.paramColumns.map(k => header(k, 'params', k))}
            </tr>
          </thead>
          <tbody>
            {state.rows.map(run => (
              <tr
                key={run.id}
                className="jp-mlops-run-row"
                data-run-id={run.id}
                tabIndex={0}
                onClick={() => props.onOpen(run)}
                onKeyDown={event => event.key === 'Enter' && props.onOpen(run)}
              >
                <td>
                  <span
                    className={`jp-mlops-status jp-mlops-status-${run.status}`}
                  >
                    {run.status}
                  </span>
                </td>
                <td className="jp-mlops-run-name" title={run.id}>
                  {run.name || run.id.slice(0, 8)}
                  {run.tags['mlops.execution_order'] === 'unordered' && (
                    <span
                      className="jp-mlops-unordered"
                      title="Cells ran out of order: the notebook version may not reproduce this run"
                    >
                      {' '}
                      ⚠
                    </span>
                  )}
                </td>
                <td>{startLabel(run.start_time)}</td>
                <td>{formatDuration(elapsed(run))}</td>
                {state.metricColumns.map(k => (
                  <td key={`m-${k}`} className="jp-mlops-number">
                    {formatValue(run.metrics[k])}
                  </td>
                ))}
                {state.paramColumns.map(k => (
                  <td key={`p-${k}`}>{run.params[k] ?? ''}</td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <div className="jp-mlops-pager">
        <span className="jp-mlops-count">
          {first}–{last} of {state.total}
        </span>
        <button
          className="jp-mlops-button"
          aria-label="Previous page"
          disabled={state.page === 0}
          onClick={() => props.onPage(state.page - 1)}
        >
          ‹
        </button>
        <span>
          {state.page + 1} / {props.pageCount}
        </span>
        <button
          className="jp-mlops-button"
          aria-label="Next page"
          disabled={state.page + 1 >= props.pageCount}
          onClick={() => props.onPage(state.page + 1)}
        >
          ›
        </button>
      </div>
    </div>
  );
}
