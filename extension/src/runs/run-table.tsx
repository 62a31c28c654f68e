/**
 * The runs table: a tick box, status and name (both stay put while the rest scrolls sideways),
 * start, duration and the chosen metric/param columns; the error line of a failed run; sortable
 * headers, a filter box, a failed-runs toggle, a column chooser and a pager (one page in the
 * DOM, so 10,000 runs stay smooth). Ticking two or more runs offers Compare.
 */
import React, { useEffect, useRef, useState } from 'react';

import { MlopsAPI } from '../api';
import { ColumnChooser } from './column-chooser';
import { RunPager } from './run-pager';
import {
  IRunsState,
  ISortKey,
  RunsModel,
  elapsed,
  formatDuration,
  formatValue,
  runLabel
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
  /** The model, for selection, columns and the failed-runs toggle. */
  model: RunsModel;
}

function startLabel(epoch: number): string {
  const date = new Date(epoch * 1000);
  const today = new Date();
  return date.toDateString() === today.toDateString()
    ? date.toLocaleTimeString()
    : date.toLocaleString();
}

/** A stable key of the scope, to notice when the table shows something else. */
function scopeKey(state: IRunsState): string {
  return JSON.stringify(state.scope);
}

function SortHeader(props: {
  label: string;
  entity: ISortKey['entity'];
  column: string;
  sort: ISortKey;
  onSort: IRunTableProps['onSort'];
  className?: string;
}): JSX.Element {
  const active =
    props.sort.entity === props.entity && props.sort.key === props.column;
  const arrow = active ? (props.sort.descending ? ' ▾' : ' ▴') : '';
  const classes = [props.className, active ? 'jp-mlops-sorted' : undefined]
    .filter(Boolean)
    .join(' ');
  return (
    <th
      className={classes || undefined}
      aria-sort={
        active ? (props.sort.descending ? 'descending' : 'ascending') : 'none'
      }
    >
      <button
        className="jp-mlops-sort"
        title={`Sort by ${props.label}`}
        onClick={() => props.onSort(props.entity, props.column)}
      >
        <span className="jp-mlops-ellipsis">{props.label}</span>
        {arrow}
      </button>
    </th>
  );
}

function RunRow(props: {
  run: MlopsAPI.IRunSummary;
  state: IRunsState;
  onOpen: IRunTableProps['onOpen'];
  model: RunsModel;
}): JSX.Element {
  const { run, state } = props;
  const name = runLabel(run);
  const error = state.errors[run.id];
  const ticked = state.selected.includes(run.id);
  return (
    <tr
      className={`jp-mlops-run-row${ticked ? ' jp-mod-selected' : ''}`}
      data-run-id={run.id}
      tabIndex={0}
      onClick={() => props.onOpen(run)}
      onKeyDown={event => event.key === 'Enter' && props.onOpen(run)}
    >
      <td className="jp-mlops-sticky jp-mlops-col-tick">
        <input
          type="checkbox"
          aria-label={`Select ${name}`}
          checked={ticked}
          onClick={event => event.stopPropagation()}
          onChange={() => props.model.toggleSelected(run.id)}
        />
      </td>
      <td className="jp-mlops-sticky jp-mlops-col-status">
        <span className={`jp-mlops-status jp-mlops-status-${run.status}`}>
          {run.status}
        </span>
      </td>
      <td
        className="jp-mlops-sticky jp-mlops-col-name jp-mlops-run-name"
        title={`${name} (${run.id})`}
      >
        <div className="jp-mlops-ellipsis">
          {name}
          {run.tags['mlops.execution_order'] === 'unordered' && (
            <span
              className="jp-mlops-unordered"
              title="Cells ran out of order: the notebook version may not reproduce this run"
            >
              {' '}
              ⚠
            </span>
          )}
        </div>
        {error && (
          <div className="jp-mlops-row-error jp-mlops-ellipsis" title={error}>
            {error}
          </div>
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
        <td key={`p-${k}`} className="jp-mlops-cell-text" title={run.params[k]}>
          <div className="jp-mlops-ellipsis">{run.params[k] ?? ''}</div>
        </td>
      ))}
    </tr>
  );
}

/** The table of one page of runs. */
export function RunTable(props: IRunTableProps): JSX.Element {
  const { state, model } = props;
  const [filter, setFilter] = useState(state.filter);
  useEffect(() => setFilter(state.filter), [state.filter]);
  // Another scope starts at the left edge: its columns differ from the last scope's.
  const scroller = useRef<HTMLDivElement>(null);
  const scope = scopeKey(state);
  useEffect(() => {
    if (scroller.current) {
      scroller.current.scrollLeft = 0;
    }
  }, [scope]);
  const header = (
    label: string,
    entity: ISortKey['entity'],
    column: string,
    className?: string
  ) => (
    <SortHeader
      key={`${entity}.${column}`}
      label={label}
      entity={entity}
      column={column}
      sort={state.sort}
      onSort={props.onSort}
      className={className}
    />
  );
  const selected = state.selected.length;
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
      <div className="jp-mlops-table-actions">
        <label className="jp-mlops-failed-toggle">
          <input
            type="checkbox"
            checked={state.failedOnly}
            onChange={() =>
              void model.setFailedOnly(!state.failedOnly).catch(() => undefined)
            }
          />
          Failed only
        </label>
        <ColumnChooser
          metricKeys={state.metricKeys}
          paramKeys={state.paramKeys}
          metricColumns={state.metricColumns}
          paramColumns={state.paramColumns}
          onChange={chosen => model.setColumns(chosen)}
        />
        <button
          className="jp-mlops-button jp-mlops-primary jp-mlops-compare-button"
          disabled={selected < 2}
          title={
            selected < 2
              ? 'Tick two or more runs to compare them'
              : `Compare ${selected} runs`
          }
          onClick={() => model.compareSelected()}
        >
          Compare{selected ? ` (${selected})` : ''}
        </button>
        {selected > 0 && (
          <button
            className="jp-mlops-link"
            onClick={() => model.clearSelection()}
          >
            Clear
          </button>
        )}
      </div>
      {state.error && (
        <div className="jp-mlops-error jp-mlops-filter-error" role="alert">
          {state.error}
        </div>
      )}
      <div className="jp-mlops-table-scroll" ref={scroller}>
        <table className="jp-mlops-table">
          <thead>
            <tr>
              <th className="jp-mlops-sticky jp-mlops-col-tick" />
              {header(
                'Status',
                'attributes',
                'status',
                'jp-mlops-sticky jp-mlops-col-status'
              )}
              {header(
                'Run',
                'attributes',
                'name',
                'jp-mlops-sticky jp-mlops-col-name'
              )}
              {header('Start', 'attributes', 'start_time')}
              <th>Duration</th>
              {state.metricColumns.map(k => header(k, 'metrics', k))}
              {state.paramColumns.map(k => header(k, 'params', k))}
            </tr>
          </thead>
          <tbody>
            {state.rows.map(run => (
              <RunRow
                key={run.id}
                run={run}
                state={state}
                onOpen={props.onOpen}
                model={model}
              />
            ))}
          </tbody>
        </table>
        {state.rows.length === 0 && (
          <p className="jp-mlops-muted">
            {state.failedOnly ? 'No failed runs here.' : 'No runs match.'}
          </p>
        )}
      </div>
      <RunPager
        page={state.page}
        pageCount={props.pageCount}
        pageSize={state.pageSize}
        total={state.total}
        onPage={props.onPage}
      />
    </div>
  );
}
