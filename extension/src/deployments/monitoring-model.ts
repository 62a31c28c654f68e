/**
 * State of a deployment's Monitoring section: the windows of `GET deployments/{id}/monitoring`
 * turned into drift rows, chart series and plain "not enough data" sentences. The numbers are
 * the server's (core's monitoring report, the same as `mlops monitor`); this module only
 * chooses what to show. Talks to the server only through src/api.ts (the jest tests mock it).
 */
import { MlopsAPI, getDeploymentMonitoring } from '../api';

/** The periods the section offers: how far back, and the window length. */
export const PERIODS: ReadonlyArray<{
  since: string;
  window: string;
  label: string;
}> = [
  { since: '24h', window: '1h', label: 'last 24 h, hourly' },
  { since: '7d', window: '1d', label: 'last 7 days, daily' },
  { since: '1h', window: '5m', label: 'last hour, 5 min' }
];

/** What a feature's dot says. */
export type DriftState = 'drift' | 'ok' | 'not-enough-data';

/** One row of the drift table. */
export interface IDriftRow {
  /** Feature name (or "prediction"). */
  feature: string;
  /** The dot. */
  state: DriftState;
  /** The test or statistic used (psi, ks, ...). */
  method: string;
  /** The score, formatted ("—" without one). */
  score: string;
  /** The threshold, formatted. */
  threshold: string;
  /** Training vs live bin shares of a drifted feature (null otherwise). */
  bins: { label: string; training: number; live: number }[] | null;
}

/** The lines the section charts, one value per window. */
export interface IMonitoringSeries {
  /** Window starts, UTC epoch seconds. */
  starts: number[];
  /** The quality metric charted: accuracy, or a regression metric (null: no labels). */
  quality: { name: string; values: (number | null)[] } | null;
  /** Median latency per window. */
  p50: (number | null)[];
  /** 99th percentile latency per window. */
  p99: (number | null)[];
  /** Errors / requests per window, in percent. */
  errorRate: (number | null)[];
}

/** Everything the Monitoring section renders. */
export interface IMonitoringState {
  /** Index into {@link PERIODS}. */
  period: number;
  /** The last answer (null until the first load). */
  data: MlopsAPI.IDescribeDeploymentMonitoringResponse | null;
  /** The last error message, if the last load failed. */
  error: string | null;
}

/** The metrics tried, in order, for the quality chart. */
const QUALITY_METRICS = ['accuracy', 'rmse', 'mae', 'r2'];

function value(w: MlopsAPI.IMonitoringWindow, name: string): number | null {
  return name in w.values ? w.values[name] : null;
}

function formatNumber(x: number | null): string {
  if (x === null) {
    return '—';
  }
  return Math.abs(x) >= 0.001 || x === 0 ? x.toFixed(3) : x.toExponential(1);
}

function dotState(v: MlopsAPI.IFeatureDriftVerdict): DriftState {
  return v.drifted === null ? 'not-enough-data' : v.drifted ? 'drift' : 'ok';
}

/** One table row per feature, then the prediction's row when it has a verdict. */
export function driftRows(
  drift: MlopsAPI.IMonitoringDrift | null
): IDriftRow[] {
  if (!drift) {
    return [];
  }
  const verdicts = drift.prediction
    ? [...drift.features, drift.prediction]
    : drift.features;
  return verdicts.map(v => ({
    feature: v.feature,
    state: dotState(v),
    method: v.method,
    score: formatNumber(v.score),
    threshold: formatNumber(v.threshold),
    bins:
      v.bins && v.training_shares && v.live_shares
        ? v.bins.map((label, i) => ({
            label,
            training: v.training_shares![i],
            live: v.live_shares![i]
          }))
        : null
  }));
}

/** The chart lines over the windows; the quality metric is the first one any window has. */
export function monitoringSeries(
  data: MlopsAPI.IDescribeDeploymentMonitoringResponse
): IMonitoringSeries {
  const windows = data.windows;
  const name = QUALITY_METRICS.find(m => windows.some(w => m in w.values));
  return {
    starts: windows.map(w => w.start),
    quality: name ? { name, values: windows.map(w => value(w, name)) } : null,
    p50: windows.map(w => value(w, 'latency.p50_ms')),
    p99: windows.map(w => value(w, 'latency.p99_ms')),
    errorRate: windows.map(w => {
      const rate = value(w, 'errors.rate');
      return rate === null ? null : rate * 100;
    })
  };
}

/** Requests over the whole period. */
export function totalRequests(
  data: MlopsAPI.IDescribeDeploymentMonitoringResponse
): number {
  return data.windows.reduce((n, w) => n + (w.values.requests ?? 0), 0);
}

/** Sentences saying plainly what cannot be shown and why (empty when all can). */
export function dataNotes(
  data: MlopsAPI.IDescribeDeploymentMonitoringResponse,
  periodLabel: string
): string[] {
  const notes: string[] = [];
  const requests = totalRequests(data);
  if (requests === 0) {
    notes.push(
      `Not enough data: no requests reached ${data.model} in the ${periodLabel}.`
    );
  } else if (!data.drift) {
    notes.push(
      `Not enough data for drift: no window in the ${periodLabel} has ${data.min_rows} rows ` +
        '(the minimum a verdict needs).'
    );
  }
  if (!data.has_profile) {
    notes.push(
      `${data.model} has no training profile, so no drift can be computed; log the model ` +
        'with an input_example to record one.'
    );
  }
  if (requests > 0 && !monitoringSeries(data).quality) {
    notes.push(
      'No labels in this period: accuracy appears once labels are logged (mlops monitor labels).'
    );
  }
  return notes;
}

/** The alert rules with an open incident, then the others. */
export function sortedAlerts(
  alerts: MlopsAPI.IMonitoringAlertRule[]
): MlopsAPI.IMonitoringAlertRule[] {
  return [...alerts].sort(
    (a, b) =>
      Number(b.incident !== null) - Number(a.incident !== null) ||
      a.name.localeCompare(b.name)
  );
}

/** The Monitoring section's data for one deployment. */
export class MonitoringModel {
  /** @param deploymentId the deployment shown. */
  constructor(readonly deploymentId: number) {}

  /** Called after every state change. */
  onChange: (() => void) | null = null;

  /** The current state. */
  get state(): IMonitoringState {
    return this.current;
  }

  /** Load the current period's monitoring (errors land in `state.error`). */
  async load(): Promise<void> {
    const period = PERIODS[this.current.period];
    const asked = this.current.period;
    try {
      const data = await getDeploymentMonitoring(this.deploymentId, {
        since: period.since,
        window: period.window
      });
      if (asked === this.current.period) {
        this.set({ data, error: null }); // an answer for an older choice is dropped
      }
    } catch (error) {
      this.set({ error: (error as Error).message });
    }
  }

  /** Switch to another period of {@link PERIODS} and load it. */
  async setPeriod(period: number): Promise<void> {
    if (!(period in PERIODS)) {
      throw new Error(`No period ${period}: choose 0-${PERIODS.length - 1}.`);
    }
    this.set({ period, data: null });
    await this.load();
  }

  private set(next: Partial<IMonitoringState>): void {
    this.current = { ...this.current, ...next };
    this.onChange?.();
  }

  private current: IMonitoringState = { period: 0, data: null, error: null };
}
