/**
 * The Monitoring section of a deployment's detail: a drift table (a dot per feature), the
 * accuracy (or regression metric), latency and error-rate charts over windows drawn with the
 * traffic charts' uPlot helper, the alert rules with their open incidents and, on demand, each
 * rule's Changes (who created, paused, resumed or edited it, and when), and "not enough data"
 * said plainly when so.
 */
import React, { useEffect, useMemo, useReducer, useState } from 'react';

import { MlopsAPI } from '../api';
import { HistorySection } from '../notes/notes-section';
import { relativeTime } from '../versions/versions-model';
import {
  IDriftRow,
  MonitoringModel,
  PERIODS,
  dataNotes,
  driftRows,
  monitoringSeries,
  sortedAlerts,
  totalRequests
} from './monitoring-model';
import { TrafficChart } from './traffic-chart';

/** How often the open section reloads (windows are minutes to days long). */
const RELOAD_MS = 60_000;

/** The existing status-dot colours: green ok, red drift, grey not enough data. */
const DOT_CLASS = {
  ok: 'jp-mlops-dot-healthy',
  drift: 'jp-mlops-dot-failed',
  'not-enough-data': 'jp-mlops-dot-stopped'
};

function percent(x: number): string {
  return `${(x * 100).toFixed(1)} %`;
}

function DriftTable(props: { rows: IDriftRow[] }): JSX.Element {
  return (
    <table className="jp-mlops-table" aria-label="drift per feature">
      <thead>
        <tr>
          <th>feature</th>
          <th>verdict</th>
          <th>test</th>
          <th>score</th>
          <th>threshold</th>
        </tr>
      </thead>
      <tbody>
        {props.rows.map(row => (
          <React.Fragment key={row.feature}>
            <tr data-feature={row.feature} data-drift={row.state}>
              <td>{row.feature}</td>
              <td>
                <span
                  className={`jp-mlops-dot ${DOT_CLASS[row.state]}`}
                  aria-label={row.state.replace(/-/g, ' ')}
                />{' '}
                {row.state.replace(/-/g, ' ')}
              </td>
              <td>{row.method}</td>
              <td>{row.score}</td>
              <td>{row.threshold}</td>
            </tr>
            {row.bins && (
              <tr className="jp-mlops-muted">
                <td colSpan={5}>
                  training → live:{' '}
                  {row.bins
                    .filter(b => b.training > 0.005 || b.live > 0.005)
                    .map(
                      b =>
                        `${b.label} ${percent(b.training)} → ${percent(b.live)}`
                    )
                    .join(' · ')}
                </td>
              </tr>
            )}
          </React.Fragment>
        ))}
      </tbody>
    </table>
  );
}

function Alerts(props: {
  alerts: MlopsAPI.IMonitoringAlertRule[];
  /** The monitoring answer: each reload reloads an open rule's Changes too. */
  data: MlopsAPI.IDescribeDeploymentMonitoringResponse;
}): JSX.Element {
  const [shown, setShown] = useState<string | null>(null);
  if (!props.alerts.length) {
    return (
      <p className="jp-mlops-muted">
        No alert rule watches this model (mlops alerts add).
      </p>
    );
  }
  return (
    <ul className="jp-mlops-lineage" aria-label="alert rules">
      {sortedAlerts(props.alerts).map(rule => (
        <li key={rule.name} data-alert={rule.name}>
          <span
            className={`jp-mlops-dot ${rule.incident ? 'jp-mlops-dot-failed' : 'jp-mlops-dot-healthy'}`}
          />{' '}
          <b>{rule.name}</b> {rule.conditions.join(' or ')}
          {rule.paused && ' (paused)'}
          {rule.incident ? (
            <span className="jp-mlops-incident">
              {' '}
              — firing since {relativeTime(rule.incident.opened_at)}:{' '}
              {Object.entries(rule.incident.broken)
                .map(([c, v]) => `${c} (${v.toFixed(3)})`)
                .join(', ')}
            </span>
          ) : (
            <span className="jp-mlops-muted"> — ok</span>
          )}{' '}
          <button
            className="jp-mlops-link jp-mlops-alert-changes"
            aria-expanded={shown === rule.name}
            title={`Who created, paused, resumed or edited ${rule.name}, and when`}
            onClick={() => setShown(shown === rule.name ? null : rule.name)}
          >
            {shown === rule.name ? 'hide changes' : 'changes'}
          </button>
          {shown === rule.name && (
            <HistorySection
              kind="alert"
              target={rule.name}
              reloadOn={props.data}
            />
          )}
        </li>
      ))}
    </ul>
  );
}

function Charts(props: {
  data: MlopsAPI.IDescribeDeploymentMonitoringResponse;
}): JSX.Element {
  const series = monitoringSeries(props.data);
  return (
    <>
      {series.quality && (
        <TrafficChart
          title={series.quality.name}
          minutes={series.starts}
          lines={[
            {
              label: series.quality.name,
              values: series.quality.values,
              colour: '--jp-success-color1'
            }
          ]}
        />
      )}
      <TrafficChart
        title="latency"
        minutes={series.starts}
        lines={[
          { label: 'p50 ms', values: series.p50, colour: '--jp-brand-color1' },
          { label: 'p99 ms', values: series.p99, colour: '--jp-warn-color1' }
        ]}
      />
      <TrafficChart
        title="error rate"
        minutes={series.starts}
        lines={[
          {
            label: 'errors %',
            values: series.errorRate,
            colour: '--jp-error-color1'
          }
        ]}
      />
    </>
  );
}

/** The Monitoring section of one deployment; it loads and reloads its own data. */
export function MonitoringSection(props: {
  deploymentId: number;
}): JSX.Element {
  const model = useMemo(
    () => new MonitoringModel(props.deploymentId),
    [props.deploymentId]
  );
  const [, redraw] = useReducer((n: number) => n + 1, 0);
  useEffect(() => {
    model.onChange = redraw;
    void model.load();
    const timer = window.setInterval(() => void model.load(), RELOAD_MS);
    return () => {
      window.clearInterval(timer);
      model.onChange = null;
    };
  }, [model]);
  const { data, error, period } = model.state;
  const label = PERIODS[period].label;
  return (
    <section className="jp-mlops-monitoring" aria-label="monitoring">
      <h4>Monitoring</h4>
      <div className="jp-mlops-toolbar">
        <select
          aria-label="monitoring period"
          value={period}
          onChange={e => void model.setPeriod(Number(e.target.value))}
        >
          {PERIODS.map((p, i) => (
            <option key={p.since} value={i}>
              {p.label}
            </option>
          ))}
        </select>
      </div>
      {error && <div className="jp-mlops-error">{error}</div>}
      {!data ? (
        !error && <p className="jp-mlops-muted">Loading…</p>
      ) : (
        <>
          {dataNotes(data, label).map(note => (
            <p key={note} className="jp-mlops-muted jp-mlops-not-enough">
              {note}
            </p>
          ))}
          {data.drift && (
            <>
              <p>
                Drift, window from{' '}
                {new Date(data.drift.start * 1000).toLocaleString()} (
                {data.drift.rows} rows):{' '}
                {data.drift.share === null
                  ? 'not judged'
                  : `${percent(data.drift.share)} of features drifted` +
                    (data.drift.drifted ? ' — dataset drift' : '')}
              </p>
              <DriftTable rows={driftRows(data.drift)} />
            </>
          )}
          {totalRequests(data) > 0 && <Charts data={data} />}
          <h4>Alerts</h4>
          <Alerts alerts={data.alerts} data={data} />
        </>
      )}
    </section>
  );
}
