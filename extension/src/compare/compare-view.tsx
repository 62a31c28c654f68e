/**
 * The Compare view: the runs with their colours, params side by side (differing first),
 * latest metric values, each metric's curves overlaid (log toggle), a scatter of the runs for
 * many-run comparisons, and the code diff between two of them.
 */
import React, { useMemo } from 'react';

import { MetricChart, themeValue } from '../runs/metric-chart';
import { seriesColour } from '../runs/chart-data';
import {
  CompareModel,
  ICompareState,
  paramRows,
  runLabels,
  scatterAxes,
  scatterPoints
} from './compare-model';
import { ComparedTable } from './params-table';
import type { IDiffRenderMime } from '../versions/output-view';
import { RunDiff } from './run-diff';
import { ScatterChart } from './scatter-chart';

/** Props of {@link CompareView}. */
export interface ICompareViewProps {
  /** The model (for actions). */
  model: CompareModel;
  /** Its state. */
  state: ICompareState;
  /** Open a run in the side panel. */
  onOpenRun?: (runId: string) => void;
  /** The app's registry, for the code diff's outputs (text without one). */
  rendermime?: IDiffRenderMime | null;
}

function AxisSelect(props: {
  label: string;
  value: string;
  axes: string[];
  onChange: (value: string) => void;
}): JSX.Element {
  return (
    <label className="jp-mlops-axis-select">
      {props.label}{' '}
      <select
        className="jp-mlops-select"
        aria-label={`Scatter ${props.label}`}
        value={props.value}
        onChange={event => props.onChange(event.target.value)}
      >
        {props.axes.map(a => (
          <option key={a} value={a}>
            {a}
          </option>
        ))}
      </select>
    </label>
  );
}

/** The whole comparison. */
export function CompareView(props: ICompareViewProps): JSX.Element {
  const { model, state } = props;
  const { data } = state;
  const labels = useMemo(() => (data ? runLabels(data.runs) : {}), [data]);
  const axes = useMemo(() => (data ? scatterAxes(data) : []), [data]);
  const points = useMemo(
    () =>
      data && state.scatter
        ? scatterPoints(data, state.scatter.x, state.scatter.y)
        : [],
    [data, state.scatter]
  );
  if (state.error) {
    return (
      <div className="jp-mlops-compare">
        <div className="jp-mlops-error" role="alert">
          {state.error}
        </div>
      </div>
    );
  }
  if (!data) {
    return (
      <div className="jp-mlops-compare jp-mlops-muted">
        Loading the comparison…
      </div>
    );
  }
  const metricKeys = data.metrics.map(m => m.key);
  return (
    <div
      className="jp-mlops-compare"
      data-run-ids={data.runs.map(r => r.id).join(',')}
      aria-busy={state.loading}
    >
      <h3 className="jp-mlops-detail-title">Compare {data.runs.length} runs</h3>
      <ul className="jp-mlops-compare-runs">
        {data.runs.map((r, i) => (
          <li key={r.id} title={r.id}>
            <span
              className="jp-mlops-swatch"
              style={{ background: seriesColour(i, themeValue) }}
            />
            <button
              className="jp-mlops-link"
              onClick={() => props.onOpenRun?.(r.id)}
            >
              {labels[r.id]}
            </button>
            <span className={`jp-mlops-status jp-mlops-status-${r.status}`}>
              {r.status}
            </span>
            {i === 0 && <span className="jp-mlops-muted">baseline</span>}
          </li>
        ))}
      </ul>
      <section className="jp-mlops-compare-section">
        <h4>
          Parameters{' '}
          <label className="jp-mlops-muted jp-mlops-inline-toggle">
            <input
              type="checkbox"
              checked={state.onlyDiffering}
              onChange={() => model.setOnlyDiffering(!state.onlyDiffering)}
            />
            only differing
          </label>
        </h4>
        <ComparedTable
          title="param"
          runs={data.runs}
          labels={labels}
          rows={paramRows(data, state.onlyDiffering)}
        />
      </section>
      <section className="jp-mlops-compare-section">
        <h4>Metrics (latest values)</h4>
        <ComparedTable
          title="metric"
          runs={data.runs}
          labels={labels}
          rows={data.metrics}
          extra={key => (
            <label
              className="jp-mlops-inline-toggle"
              title={`Curves of ${key}`}
            >
              <input
                type="checkbox"
                aria-label={`Chart ${key}`}
                checked={state.chartKeys.includes(key)}
                onChange={() => void model.toggleChart(key)}
              />
              chart
            </label>
          )}
        />
      </section>
      <section className="jp-mlops-compare-section">
        <h4>Curves</h4>
        <div className="jp-mlops-charts jp-mlops-compare-charts">
          {state.chartKeys.map(key => (
            <div key={key} className="jp-mlops-compare-chart" data-metric={key}>
              <button
                className="jp-mlops-link jp-mlops-log-toggle"
                aria-pressed={state.logScale.includes(key)}
                onClick={() => model.toggleLogScale(key)}
              >
                {state.logScale.includes(key) ? 'log scale ✓' : 'log scale'}
              </button>
              {state.curves[key] ? (
                <MetricChart
                  name={key}
                  series={state.curves[key]}
                  logScale={state.logScale.includes(key)}
                  height={180}
                />
              ) : (
                <p className="jp-mlops-muted">Loading {key}…</p>
              )}
            </div>
          ))}
          {!state.chartKeys.length && (
            <p className="jp-mlops-muted">
              {metricKeys.length
                ? 'Tick "chart" on a metric to draw its curves.'
                : 'No metrics logged.'}
            </p>
          )}
        </div>
      </section>
      {state.scatter && axes.length > 0 && (
        <section className="jp-mlops-compare-section">
          <h4>Runs as points</h4>
          <div className="jp-mlops-toolbar">
            <AxisSelect
              label="x"
              value={state.scatter.x}
              axes={axes}
              onChange={x => model.setScatter(x, state.scatter!.y)}
            />
            <AxisSelect
              label="y"
              value={state.scatter.y}
              axes={metricKeys.map(k => `metrics.${k}`)}
              onChange={y => model.setScatter(state.scatter!.x, y)}
            />
          </div>
          <ScatterChart
            points={points}
            x={state.scatter.x}
            y={state.scatter.y}
            labels={labels}
          />
        </section>
      )}
      {state.diffPair && (
        <section className="jp-mlops-compare-section">
          <h4>Code diff</h4>
          <RunDiff
            runs={data.runs}
            labels={labels}
            pair={state.diffPair}
            notebookDiff={state.notebookDiff}
            notebookDiffError={state.notebookDiffError}
            onPair={(a, b) => void model.setDiffPair(a, b)}
            rendermime={props.rendermime ?? null}
          />
        </section>
      )}
    </div>
  );
}
