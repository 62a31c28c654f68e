/**
 * The many-runs view of a comparison: each run as a point at (x, y), where x is a numeric param
 * or a metric and y a metric, drawn by uPlot with the run named under the cursor.
 */
import React, { useEffect, useRef, useState } from 'react';
import uPlot from 'uplot';

import { themeValue } from '../runs/metric-chart';
import { formatValue } from '../runs/runs-model';
import { IScatterPoint } from './compare-model';

/** Props of {@link ScatterChart}. */
export interface IScatterChartProps {
  /** Points by ascending x. */
  points: IScatterPoint[];
  /** x axis name. */
  x: string;
  /** y axis name. */
  y: string;
  /** Run id -> label. */
  labels: Record<string, string>;
}

/** Runs as points; hovering one names it. */
export function ScatterChart(props: IScatterChartProps): JSX.Element {
  const box = useRef<HTMLDivElement>(null);
  const [hovered, setHovered] = useState<IScatterPoint | null>(null);
  useEffect(() => {
    const element = box.current;
    if (!element || !props.points.length) {
      return;
    }
    const text = themeValue('--jp-ui-font-color1').trim() || 'currentColor';
    const grid =
      themeValue('--jp-border-color2').trim() || 'rgba(128,128,128,0.3)';
    const colour = themeValue('--jp-brand-color1').trim() || 'steelblue';
    const axis: uPlot.Axis = {
      stroke: text,
      grid: { stroke: grid, width: 1 },
      size: 44
    };
    const chart = new uPlot(
      {
        width: Math.max(200, element.clientWidth),
        height: 220,
        legend: { show: false },
        scales: { x: { time: false } },
        axes: [
          {
            ...axis,
            label: props.x,
            values: (_u, t) => t.map(v => formatValue(v))
          },
          {
            ...axis,
            label: props.y,
            values: (_u, t) => t.map(v => formatValue(v))
          }
        ],
        series: [
          {},
          {
            stroke: colour,
            fill: colour,
            paths: () => null,
            points: { show: true, size: 7, fill: colour }
          }
        ],
        hooks: {
          setCursor: [
            u => {
              const index = u.cursor.idx;
              setHovered(
                index === null || index === undefined
                  ? null
                  : props.points[index]
              );
            }
          ]
        }
      },
      [props.points.map(p => p.x), props.points.map(p => p.y)],
      element
    );
    const observer = new ResizeObserver(() =>
      chart.setSize({ width: Math.max(200, element.clientWidth), height: 220 })
    );
    observer.observe(element);
    return () => {
      observer.disconnect();
      chart.destroy();
    };
  }, [props.points, props.x, props.y]);
  if (!props.points.length) {
    return <p className="jp-mlops-muted">No run has both values.</p>;
  }
  return (
    <figure
      className="jp-mlops-chart jp-mlops-scatter"
      aria-label={`${props.y} against ${props.x}`}
    >
      <div className="jp-mlops-chart-plot" ref={box} />
      <figcaption className="jp-mlops-muted jp-mlops-scatter-hover">
        {hovered
          ? `${props.labels[hovered.runId]}: ${props.x} = ${formatValue(hovered.x)}, ${props.y} = ${formatValue(hovered.y)}`
          : `${props.points.length} runs · hover a point to name its run`}
      </figcaption>
    </figure>
  );
}
