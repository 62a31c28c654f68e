/**
 * A metric chart drawn by uPlot: one curve per run on a shared step axis, axes in theme
 * colours, the values under the cursor in the legend, and an optional log scale.
 */
import React, { useEffect, useRef } from 'react';
import uPlot from 'uplot';

import { ISeries, alignSeries, seriesColour } from './chart-data';
import { formatValue } from './runs-model';

/** Props of {@link MetricChart}. */
export interface IMetricChartProps {
  /** Metric name. */
  name: string;
  /** One entry per run (a run detail passes one). */
  series: ISeries[];
  /** Logarithmic value axis. */
  logScale?: boolean;
  /** Plot height in pixels. */
  height?: number;
}

/** The value of a JupyterLab theme variable (canvas drawing needs real colours). */
export function themeValue(name: string): string {
  return getComputedStyle(document.body).getPropertyValue(name);
}

function options(props: IMetricChartProps, width: number): uPlot.Options {
  const text = themeValue('--jp-ui-font-color1').trim() || 'currentColor';
  const grid =
    themeValue('--jp-border-color2').trim() || 'rgba(128,128,128,0.3)';
  const font = `10px ${themeValue('--jp-ui-font-family').trim() || 'sans-serif'}`;
  const axis: uPlot.Axis = {
    stroke: text,
    grid: { stroke: grid, width: 1 },
    ticks: { stroke: grid, width: 1 },
    font,
    size: 44
  };
  return {
    width,
    height: props.height ?? 120,
    legend: { show: true, live: true },
    cursor: { drag: { x: true, y: false } },
    scales: {
      x: { time: false },
      y: props.logScale ? { distr: 3 } : {}
    },
    axes: [
      { ...axis, label: 'step', labelFont: font, labelSize: 14 },
      { ...axis, values: (_u, ticks) => ticks.map(v => formatValue(v)) }
    ],
    series: [
      { label: 'step' },
      ...props.series.map((s, i) => ({
        label: s.label,
        stroke: seriesColour(s.colour ?? i, themeValue),
        width: 1.5,
        spanGaps: true,
        points: { show: s.points.length === 1 },
        value: (_u: uPlot, v: number | null) =>
          v === null || v === undefined ? '–' : formatValue(v)
      }))
    ]
  };
}

/** One metric's curves, redrawn when the data, the scale or the width changes. */
export function MetricChart(props: IMetricChartProps): JSX.Element {
  const box = useRef<HTMLDivElement>(null);
  const total = props.series.reduce((n, s) => n + s.points.length, 0);
  const last =
    props.series.length === 1 && total
      ? props.series[0].points[props.series[0].points.length - 1]
      : null;
  useEffect(() => {
    const element = box.current;
    if (!element || !total) {
      return;
    }
    const aligned = alignSeries(props.series, props.logScale);
    const data = [aligned.steps, ...aligned.values] as uPlot.AlignedData;
    const chart = new uPlot(
      options(props, Math.max(160, element.clientWidth)),
      data,
      element
    );
    // Follow the panel's width (the side panel and the main area are both resizable).
    const observer = new ResizeObserver(() => {
      const width = Math.max(160, element.clientWidth);
      if (width !== chart.width) {
        chart.setSize({ width, height: props.height ?? 120 });
      }
    });
    observer.observe(element);
    return () => {
      observer.disconnect();
      chart.destroy();
    };
  }, [props.series, props.logScale, props.height]);
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
      {total ? (
        <div className="jp-mlops-chart-plot" ref={box} />
      ) : (
        <div className="jp-mlops-chart-single jp-mlops-muted">no points</div>
      )}
      {props.series.length === 1 && total > 1 && (
        <div className="jp-mlops-chart-range">
          min{' '}
          {formatValue(Math.min(...props.series[0].points.map(p => p.value)))} ·
          max{' '}
          {formatValue(Math.max(...props.series[0].points.map(p => p.value)))} ·{' '}
          {total} points
        </div>
      )}
    </figure>
  );
}
