/**
 * A small line chart of one metric series, drawn as SVG with theme colours.
 */
import React from 'react';

import { MlopsAPI } from '../api';
import { formatValue } from './runs-model';

/** Props of {@link MetricChart}. */
export interface IMetricChartProps {
  /** Metric name. */
  name: string;
  /** Points in step order. */
  points: MlopsAPI.IMetricPoint[];
}

const W = 240;
const H = 90;
const PAD = 4;

/** The SVG path of a series scaled into the chart box. */
export function linePath(points: MlopsAPI.IMetricPoint[]): string {
  if (points.length === 0) {
    return '';
  }
  const steps = points.map(p => p.step);
  const values = points.map(p => p.value);
  const [x0, x1] = [Math.min(...steps), Math.max(...steps)];
  const [y0, y1] = [Math.min(...values), Math.max(...values)];
  const sx = (s: number) => PAD + ((s - x0) / (x1 - x0 || 1)) * (W - 2 * PAD);
  const sy = (v: number) =>
    H - PAD - ((v - y0) / (y1 - y0 || 1)) * (H - 2 * PAD);
  return points
    .map(
      (p, i) =>
        `${i ? 'L' : 'M'}${sx(p.step).toFixed(1)},${sy(p.value).toFixed(1)}`
    )
    .join(' ');
}

/** One metric's curve with its last, min and max values. */
export function MetricChart(props: IMetricChartProps): JSX.Element {
  const { points } = props;
  const values = points.map(p => p.value);
  const last = points.length ? points[points.length - 1] : null;
  return (
    <figure className="jp-mlops-chart" aria-label={`metric ${props.name}`}>
      <figcaption>
        <span className="jp-mlops-chart-name">{props.name}</span>
        {last && (
          <span className="jp-mlops-chart-last">
            {formatValue(last.value)} @ {last.step}
          </span>
        )}
      </figcaption>
      {points.length > 1 ? (
        <svg viewBox={`0 0 ${W} ${H}`} preserveAspectRatio="none" role="img">
          <path className="jp-mlops-chart-line" d={linePath(points)} />
        </svg>
      ) : (
        <div className="jp-mlops-chart-single">single value</div>
      )}
      {points.length > 1 && (
        <div className="jp-mlops-chart-range">
          min {formatValue(Math.min(...values))} · max{' '}
          {formatValue(Math.max(...values))} · {points.length} points
        </div>
      )}
    </figure>
  );
}
