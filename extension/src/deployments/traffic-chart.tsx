/**
 * A deployment's traffic over recent minutes, drawn by uPlot on a time axis: one chart per
 * figure (requests, errors, latency), theme colours, the values under the cursor in the legend.
 */
import React, { useEffect, useRef } from 'react';
import uPlot from 'uplot';

/** One line of a traffic chart. */
export interface ITrafficLine {
  /** Legend label, e.g. "p99 ms". */
  label: string;
  /** One value per minute (null where the minute has none). */
  values: (number | null)[];
  /** A --jp-* colour variable for the line. */
  colour: string;
}

/** Props of {@link TrafficChart}. */
export interface ITrafficChartProps {
  /** Chart title, also its accessible name ("requests", "errors", "latency"). */
  title: string;
  /** Minute starts, UTC epoch seconds. */
  minutes: number[];
  /** The lines drawn. */
  lines: ITrafficLine[];
  /** Plot height in pixels. */
  height?: number;
}

function themeValue(name: string): string {
  return getComputedStyle(document.body).getPropertyValue(name).trim();
}

function chartOptions(props: ITrafficChartProps, width: number): uPlot.Options {
  const text = themeValue('--jp-ui-font-color1') || 'currentColor';
  const grid = themeValue('--jp-border-color2') || 'rgba(128,128,128,0.3)';
  const font = `10px ${themeValue('--jp-ui-font-family') || 'sans-serif'}`;
  const axis: uPlot.Axis = {
    stroke: text,
    grid: { stroke: grid, width: 1 },
    ticks: { stroke: grid, width: 1 },
    font,
    size: 40
  };
  return {
    width,
    height: props.height ?? 90,
    legend: { show: true, live: true },
    scales: { x: { time: true } },
    axes: [axis, { ...axis, size: 44 }],
    series: [
      {},
      ...props.lines.map(line => ({
        label: line.label,
        stroke: themeValue(line.colour) || 'steelblue',
        width: 1.5,
        spanGaps: false,
        points: { show: props.minutes.length === 1 }
      }))
    ]
  };
}

/** One traffic chart, redrawn when its data or its width changes. */
export function TrafficChart(props: ITrafficChartProps): JSX.Element {
  const box = useRef<HTMLDivElement>(null);
  const data = [props.minutes, ...props.lines.map(l => l.values)];
  const key = JSON.stringify(data);
  useEffect(() => {
    const element = box.current;
    if (!element || !props.minutes.length) {
      return;
    }
    const plot = new uPlot(
      chartOptions(props, Math.max(200, element.clientWidth || 260)),
      data as uPlot.AlignedData,
      element
    );
    const resize = new ResizeObserver(() => {
      if (element.clientWidth > 0) {
        plot.setSize({
          width: element.clientWidth,
          height: props.height ?? 90
        });
      }
    });
    resize.observe(element);
    return () => {
      resize.disconnect();
      plot.destroy();
    };
  }, [key]);
  return (
    <figure
      className="jp-mlops-chart jp-mlops-traffic"
      aria-label={props.title}
    >
      <figcaption>
        <span className="jp-mlops-chart-name">{props.title}</span>
      </figcaption>
      {props.minutes.length ? (
        <div ref={box} />
      ) : (
        <p className="jp-mlops-muted">No requests in this window yet.</p>
      )}
    </figure>
  );
}
