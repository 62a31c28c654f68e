/**
 * State of the Compare view: the runs side by side (`compareRuns`), each metric's curves of
 * every run (one `compareRuns` request with `curves`), the scatter axes, and the source / notebook-version diff between
 * two of the runs. Pure data handling; it talks to the server only through src/api.ts.
 */
import { diffLines } from 'diff';

import { MlopsAPI, compareRuns, diffNotebooks } from '../api';
import { ISeries } from '../runs/chart-data';

/** Curves drawn at once (more metrics stay one click away). */
export const MAX_CHARTS = 6;
/**
 * Points per run and metric asked from the server (it thins longer series, keeping the last
 * point). A chart is a few hundred pixels wide, so more points draw the same line: at 1,000,
 * 50 runs x 3 metrics were a 10.8 MB answer that took the server seconds to encode.
 */
export const CURVE_POINTS = 300;

/** What the Compare view renders. */
export interface ICompareState {
  /** The runs asked for, baseline first. */
  ids: string[];
  /** The server's comparison, null until loaded. */
  data: MlopsAPI.ICompareRunsResponse | null;
  /** Metric name -> one series per run that logged it. */
  curves: Record<string, ISeries[]>;
  /** Metrics whose curves are shown. */
  chartKeys: string[];
  /** Metrics drawn on a log axis. */
  logScale: string[];
  /** Show only params that differ. */
  onlyDiffering: boolean;
  /** Scatter x axis (`params.C` or `metrics.acc`) and y axis (a metric). */
  scatter: { x: string; y: string } | null;
  /** The two runs diffed (ids). */
  diffPair: [string, string] | null;
  /** Their notebook versions' diff, when both have one and they differ. */
  notebookDiff: MlopsAPI.IDiffNotebooksResponse | null;
  /**
   * The server's message when that diff could not be made (a pruned version, nbdime missing
   * on the server): shown in the diff section, while the rest of the comparison stays.
   */
  notebookDiffError: string | null;
  /** The last error, if loading failed. */
  error: string | null;
  /** Whether a load is running. */
  loading: boolean;
}

/** One line of a source diff (the same shape the server's notebook diff uses). */
export type DiffLine = MlopsAPI.IDiffLine;

/** Labels for the runs: their names, with an id prefix where two share a name. */
export function runLabels(
  runs: MlopsAPI.IRunSummary[]
): Record<string, string> {
  const counts = new Map<string, number>();
  for (const r of runs) {
    const name = r.name || r.id.slice(0, 8);
    counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  const labels: Record<string, string> = {};
  for (const r of runs) {
    const name = r.name || r.id.slice(0, 8);
    labels[r.id] =
      (counts.get(name) ?? 0) > 1 ? `${name} (${r.id.slice(0, 6)})` : name;
  }
  return labels;
}

/** Params rows to show: the server sorts differing ones first. */
export function paramRows(
  data: MlopsAPI.ICompareRunsResponse,
  onlyDiffering: boolean
): MlopsAPI.IComparedValue[] {
  return onlyDiffering ? data.params.filter(p => p.differs) : data.params;
}

/** A line diff of two sources, lines kept as ' ', removed as '-', added as '+'. */
export function sourceDiff(a: string, b: string): DiffLine[] {
  const lines: DiffLine[] = [];
  for (const part of diffLines(a, b)) {
    const op: DiffLine['op'] = part.added ? '+' : part.removed ? '-' : ' ';
    const text = part.value.endsWith('\n')
      ? part.value.slice(0, -1)
      : part.value;
    for (const line of text.split('\n')) {
      lines.push({ op, text: line });
    }
  }
  return lines;
}

/** Scatter axes: params whose values are all numbers, and every metric. */
export function scatterAxes(data: MlopsAPI.ICompareRunsResponse): string[] {
  const numeric = data.params
    .filter(p => {
      const values = Object.values(p.values);
      return (
        values.length > 1 &&
        values.every(v => v.trim() !== '' && Number.isFinite(Number(v)))
      );
    })
    .map(p => `params.${p.key}`);
  return [...numeric, ...data.metrics.map(m => `metrics.${m.key}`)];
}

/** A run's value on a scatter axis, undefined when it has none. */
function axisValue(
  data: MlopsAPI.ICompareRunsResponse,
  axis: string,
  runId: string
): number | undefined {
  if (axis.startsWith('params.')) {
    const row = data.params.find(p => `params.${p.key}` === axis);
    const value = row?.values[runId];
    return value === undefined ? undefined : Number(value);
  }
  const row = data.metrics.find(m => `metrics.${m.key}` === axis);
  return row?.values[runId];
}

/** One point of the scatter: a run at (x, y). */
export interface IScatterPoint {
  /** Run id. */
  runId: string;
  /** Value on the x axis. */
  x: number;
  /** Value on the y axis. */
  y: number;
}

/** The runs that have both values, by ascending x (uPlot wants x sorted). */
export function scatterPoints(
  data: MlopsAPI.ICompareRunsResponse,
  x: string,
  y: string
): IScatterPoint[] {
  const points: IScatterPoint[] = [];
  for (const run of data.runs) {
    const px = axisValue(data, x, run.id);
    const py = axisValue(data, y, run.id);
    if (
      px !== undefined &&
      py !== undefined &&
      Number.isFinite(px) &&
      Number.isFinite(py)
    ) {
      points.push({ runId: run.id, x: px, y: py });
    }
  }
  return points.sort((a, b) => a.x - b.x);
}

/** The default scatter: the first differing numeric param (else metric) against the first metric. */
export function defaultScatter(
  data: MlopsAPI.ICompareRunsResponse
): { x: string; y: string } | null {
  const axes = scatterAxes(data);
  const y = data.metrics.length ? `metrics.${data.metrics[0].key}` : null;
  if (!y) {
    return null;
  }
  const differing = new Set(
    data.params.filter(p => p.differs).map(p => `params.${p.key}`)
  );
  const x = axes.find(a => differing.has(a)) ?? axes.find(a => a !== y) ?? y;
  return { x, y };
}

/** Loads a comparison and keeps the Compare view's state. */
export class CompareModel {
  /** @param ids the runs to compare, baseline first. */
  constructor(ids: string[]) {
    this.state = {
      ids,
      data: null,
      curves: {},
      chartKeys: [],
      logScale: [],
      onlyDiffering: false,
      scatter: null,
      diffPair: ids.length >= 2 ? [ids[0], ids[1]] : null,
      notebookDiff: null,
      notebookDiffError: null,
      error: null,
      loading: false
    };
  }

  /** The current state (replaced, never mutated, on each change). */
  state: ICompareState;

  /** Called after every state change. */
  onChange: (state: ICompareState) => void = () => undefined;

  /** Load the comparison, the first metrics' curves and the diff of the first two runs. */
  async load(): Promise<void> {
    this.update({ loading: true });
    try {
      const data = await compareRuns(this.state.ids);
      const keys = (
        data.common_metric_keys.length
          ? data.common_metric_keys
          : data.metric_keys
      ).slice(0, MAX_CHARTS);
      // The server resolves id prefixes: use its full ids from here on.
      const ids = data.runs.map(r => r.id);
      this.update({
        data,
        ids,
        chartKeys: keys,
        scatter: defaultScatter(data),
        diffPair: ids.length >= 2 ? [ids[0], ids[1]] : null,
        error: null
      });
      await Promise.all([this.loadCurves(keys), this.loadNotebookDiff()]);
      this.update({ loading: false });
    } catch (error) {
      this.update({ error: (error as Error).message, loading: false });
    }
  }

  /** Show (or hide) the curves of a metric. */
  async toggleChart(key: string): Promise<void> {
    const { chartKeys } = this.state;
    if (chartKeys.includes(key)) {
      this.update({ chartKeys: chartKeys.filter(k => k !== key) });
      return;
    }
    this.update({ chartKeys: [...chartKeys, key] });
    await this.loadCurves([key]);
  }

  /** Flip a metric's value axis between linear and log. */
  toggleLogScale(key: string): void {
    const { logScale } = this.state;
    this.update({
      logScale: logScale.includes(key)
        ? logScale.filter(k => k !== key)
        : [...logScale, key]
    });
  }

  /** Show all params or only the differing ones. */
  setOnlyDiffering(onlyDiffering: boolean): void {
    this.update({ onlyDiffering });
  }

  /** Choose the scatter axes. */
  setScatter(x: string, y: string): void {
    this.update({ scatter: { x, y } });
  }

  /** Diff two other runs. */
  async setDiffPair(a: string, b: string): Promise<void> {
    this.update({
      diffPair: [a, b],
      notebookDiff: null,
      notebookDiffError: null
    });
    await this.loadNotebookDiff();
  }

  /** The run of the comparison with this id. */
  run(id: string): MlopsAPI.IComparedRun | undefined {
    return this.state.data?.runs.find(r => r.id === id);
  }

  /**
   * Load the curves of some metrics for every run in one request (`compareRuns` with
   * `curves`): 50 runs x 3 metrics would otherwise be 150 requests, six at a time.
   */
  private async loadCurves(keys: string[]): Promise<void> {
    const { data } = this.state;
    const missing = keys.filter(k => !this.state.curves[k]);
    if (!data || !missing.length) {
      return;
    }
    const answer = await compareRuns(
      data.runs.map(r => r.id),
      missing,
      CURVE_POINTS
    );
    const labels = runLabels(data.runs);
    const place = new Map(data.runs.map((r, i) => [r.id, i]));
    const curves = { ...this.state.curves };
    for (const key of missing) {
      curves[key] = (answer.curves ?? [])
        .filter(c => c.key === key && place.has(c.run_id))
        .sort((a, b) => place.get(a.run_id)! - place.get(b.run_id)!)
        .map(c => ({
          label: labels[c.run_id],
          // The answer is columnar (small, fast to encode); the shared chart reads points.
          points: c.steps.map((step, i) => ({
            step,
            value: c.values[i],
            timestamp: 0
          })),
          colour: place.get(c.run_id)
        }));
    }
    this.update({ curves });
  }

  private async loadNotebookDiff(): Promise<void> {
    const pair = this.state.diffPair;
    if (!pair) {
      return;
    }
    const [a, b] = pair.map(id => this.run(id)?.notebook_version_id ?? null);
    if (a === null || b === null || a === b) {
      return;
    }
    // A diff that fails says so in its own section: the params, metrics and curves of the
    // comparison are still worth reading.
    let diff: MlopsAPI.IDiffNotebooksResponse | null = null;
    let message: string | null = null;
    try {
      diff = await diffNotebooks(a, b);
    } catch (error) {
      message = (error as Error).message;
    }
    if (this.state.diffPair === pair) {
      this.update({ notebookDiff: diff, notebookDiffError: message });
    }
  }

  private update(change: Partial<ICompareState>): void {
    this.state = { ...this.state, ...change };
    this.onChange(this.state);
  }
}
