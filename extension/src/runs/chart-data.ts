/**
 * Data handling of the metric charts: several runs' series of one metric aligned on a shared
 * step axis (uPlot's column layout), colours per run, and the log-scale rule. Pure functions,
 * tested by jest without a browser.
 */
import { MlopsAPI } from '../api';

/** One run's curve of a metric. */
export interface ISeries {
  /** Legend label (the run's name). */
  label: string;
  /** Points in step order. */
  points: MlopsAPI.IMetricPoint[];
  /** Colour number (the run's place in a comparison), so a run keeps its colour in every chart. */
  colour?: number;
}

/** Series aligned for uPlot: one x column (steps) and one y column per series. */
export interface IAlignedSeries {
  /** Every step any series has, ascending. */
  steps: number[];
  /** One column per series, null where that series has no point at a step. */
  values: (number | null)[][];
}

/**
 * Align series on the union of their steps. A step logged twice keeps its last value (what
 * the runs table shows as the metric's latest value). With `logScale`, values that are not
 * positive become gaps: a log axis cannot place them.
 */
export function alignSeries(
  series: ISeries[],
  logScale = false
): IAlignedSeries {
  const stepSet = new Set<number>();
  for (const s of series) {
    for (const p of s.points) {
      stepSet.add(p.step);
    }
  }
  const steps = [...stepSet].sort((a, b) => a - b);
  const index = new Map(steps.map((step, i) => [step, i]));
  const values = series.map(s => {
    const column: (number | null)[] = new Array(steps.length).fill(null);
    for (const p of s.points) {
      const ok = Number.isFinite(p.value) && (!logScale || p.value > 0);
      column[index.get(p.step)!] = ok ? p.value : null;
    }
    return column;
  });
  return { steps, values };
}

/** Whether a log axis can show at least one point of these series. */
export function canLogScale(series: ISeries[]): boolean {
  return series.some(s => s.points.some(p => p.value > 0));
}

/** The theme colours used first, in order; more runs get evenly spread hues. */
export const THEME_COLOURS = [
  '--jp-brand-color1',
  '--jp-warn-color1',
  '--jp-success-color1',
  '--jp-error-color1',
  '--jp-info-color1',
  '--jp-accent-color1'
];

/**
 * The colour of the i-th run: a JupyterLab theme colour for the first six (so light and dark
 * themes both read well), then hues 137.5° apart (the golden angle never repeats a hue).
 */
export function seriesColour(
  i: number,
  cssVariable: (name: string) => string = () => ''
): string {
  if (i < THEME_COLOURS.length) {
    const value = cssVariable(THEME_COLOURS[i]).trim();
    if (value) {
      return value;
    }
  }
  const hue = Math.round((i * 137.508) % 360);
  return `hsl(${hue}, 65%, 50%)`;
}
