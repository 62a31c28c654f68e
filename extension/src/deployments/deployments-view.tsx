/**
 * The Deployments view: a status dot per model server with its version and URL (copy), the
 * progress of a deploy or rollback, and the open deployment's live traffic charts, buttons
 * Stop and Rollback, and the log tail.
 */
import React from 'react';

import { MlopsAPI } from '../api';
import { EmptyState } from '../panel/empty-state';
import type { ExecuteCommand } from '../panel/view-props';
import { CommandIDs } from '../tokens';
import { relativeTime } from '../versions/versions-model';
import {
  DeploymentsModel,
  IProgress,
  formatUptime,
  healthState,
  isLive,
  trafficTotals
} from './deployments-model';
import { NotesSection } from '../notes/notes-section';
import { MonitoringSection } from './monitoring-view';
import { TrafficChart } from './traffic-chart';

/** Props of {@link DeploymentsView}. */
export interface IDeploymentsViewProps {
  /** The view's data. */
  model: DeploymentsModel;
  /** Run a palette command. */
  execute: ExecuteCommand;
}

function StatusDot(props: { dep: MlopsAPI.IDeployment }): JSX.Element {
  const state = healthState(props.dep);
  return (
    <span
      className={`jp-mlops-dot jp-mlops-dot-${state}`}
      data-health={state}
      title={state}
      aria-label={`health ${state}`}
    />
  );
}

function ProgressBox(props: {
  progress: IProgress;
  onDismiss: () => void;
}): JSX.Element {
  const { progress } = props;
  const modifier =
    progress.phase === 'done'
      ? ' jp-mlops-progress-done'
      : progress.phase === 'failed'
        ? ' jp-mlops-progress-failed'
        : '';
  return (
    <div
      className={`jp-mlops-progress${modifier}`}
      data-phase={progress.phase}
      role="status"
    >
      {progress.phase === 'waiting'
        ? '⏳ '
        : progress.phase === 'done'
          ? '✓ '
          : '✗ '}
      {progress.message}{' '}
      {progress.phase !== 'waiting' && (
        <button className="jp-mlops-link" onClick={props.onDismiss}>
          dismiss
        </button>
      )}
    </div>
  );
}

function UrlLine(props: {
  dep: MlopsAPI.IDeployment;
  execute: ExecuteCommand;
}) {
  return (
    <span className="jp-mlops-url">
      {props.dep.url}{' '}
      <button
        className="jp-mlops-link"
        title="Copy the URL"
        aria-label="Copy URL"
        onClick={e => {
          e.stopPropagation();
          props.execute(CommandIDs.copyDeploymentUrl, { id: props.dep.id });
        }}
      >
        ⧉
      </button>
    </span>
  );
}

function Traffic(props: {
  traffic: MlopsAPI.IDescribeDeploymentTrafficResponse;
}) {
  const { minutes } = props.traffic;
  const totals = trafficTotals(minutes);
  const starts = minutes.map(m => m.start);
  return (
    <>
      <div className="jp-mlops-traffic-figures">
        <span>
          <span className="jp-mlops-figure-value" data-figure="requests">
            {totals.requests}
          </span>{' '}
          requests
        </span>
        <span>
          <span className="jp-mlops-figure-value" data-figure="errors">
            {totals.errors}
          </span>{' '}
          errors ({(totals.errorRate * 100).toFixed(1)} %)
        </span>
        <span>
          p99{' '}
          <span className="jp-mlops-figure-value">
            {totals.p99 === null ? '—' : `${totals.p99.toFixed(1)} ms`}
          </span>
        </span>
      </div>
      {props.traffic.sample_rate < 1 &&
        props.traffic.source === 'prediction_log' && (
          <p className="jp-mlops-muted">
            Counted from the prediction log, which keeps{' '}
            {Math.round(props.traffic.sample_rate * 100)} % of successful
            requests.
          </p>
        )}
      <TrafficChart
        title="requests"
        minutes={starts}
        lines={[
          {
            label: 'requests',
            values: minutes.map(m => m.requests),
            colour: '--jp-brand-color1'
          }
        ]}
      />
      <TrafficChart
        title="errors"
        minutes={starts}
        lines={[
          {
            label: 'errors',
            values: minutes.map(m => m.errors),
            colour: '--jp-error-color1'
          }
        ]}
      />
      <TrafficChart
        title="latency"
        minutes={starts}
        lines={[
          {
            label: 'p50 ms',
            values: minutes.map(m => m.p50_ms),
            colour: '--jp-brand-color1'
          },
          {
            label: 'p99 ms',
            values: minutes.map(m => m.p99_ms),
            colour: '--jp-warn-color1'
          }
        ]}
      />
    </>
  );
}

function Detail(props: IDeploymentsViewProps & { dep: MlopsAPI.IDeployment }) {
  const { dep, model } = props;
  const { traffic, log, detail } = model.state;
  const live = isLive(dep);
  return (
    <div
      className="jp-mlops-detail jp-mlops-deployment-detail"
      data-deployment={dep.id}
    >
      <div className="jp-mlops-detail-header">
        <button
          className="jp-mlops-button"
          onClick={() => void model.openDeployment(null).catch(() => undefined)}
        >
          ← Deployments
        </button>
        <span className="jp-mlops-detail-title">
          <StatusDot dep={dep} /> #{dep.id} {dep.ref}
        </span>
      </div>
      <table className="jp-mlops-kv">
        <tbody>
          <tr>
            <th>URL</th>
            <td>
              <UrlLine dep={dep} execute={props.execute} />
            </td>
          </tr>
          <tr>
            <th>Serving</th>
            <td className="jp-mlops-serving">
              {dep.health.serving_version !== null
                ? `v${dep.health.serving_version}`
                : `v${dep.version} (not answering)`}
            </td>
          </tr>
          <tr>
            <th>Status</th>
            <td>
              {dep.status}
              {dep.health.uptime_s !== null &&
                ` · up ${formatUptime(dep.health.uptime_s)}`}
              {dep.pid !== null && ` · pid ${dep.pid}`}
            </td>
          </tr>
        </tbody>
      </table>
      <div className="jp-mlops-actions">
        <button
          className="jp-mlops-button"
          disabled={!live || !dep.alias}
          title={
            dep.alias
              ? `Move ${dep.model}@${dep.alias} back`
              : 'Only an alias can roll back'
          }
          onClick={() =>
            props.execute(CommandIDs.rollbackDeployment, { id: dep.id })
          }
        >
          Rollback
        </button>
        <button
          className="jp-mlops-button"
          disabled={!live}
          onClick={() =>
            props.execute(CommandIDs.stopDeployment, { id: dep.id })
          }
        >
          Stop
        </button>
      </div>
      <h4>Traffic, last 15 minutes</h4>
      {traffic ? (
        <Traffic traffic={traffic} />
      ) : (
        <p className="jp-mlops-muted">Loading…</p>
      )}
      <MonitoringSection deploymentId={dep.id} />
      <NotesSection
        kind="deployment"
        target={String(dep.id)}
        refreshKey={dep.updated_at}
      />
      <h4>Log</h4>
      <pre className="jp-mlops-log" aria-label="deployment log">
        {log.length ? log.join('\n') : 'The log is empty.'}
      </pre>
      {detail && (
        <>
          <h4>Events</h4>
          <ul className="jp-mlops-lineage">
            {detail.events.map((e, i) => (
              <li key={i}>
                {e.event}
                {e.detail ? `: ${e.detail}` : ''}{' '}
                <span className="jp-mlops-muted">{relativeTime(e.at)}</span>
              </li>
            ))}
          </ul>
        </>
      )}
    </div>
  );
}

/** The whole Deployments view. */
export function DeploymentsView(props: IDeploymentsViewProps): JSX.Element {
  const { model } = props;
  const state = model.state;
  const open =
    state.open === null
      ? null
      : (state.detail ??
        state.deployments.find(d => d.id === state.open) ??
        null);
  return (
    <>
      {state.error && <div className="jp-mlops-error">{state.error}</div>}
      {state.progress && (
        <ProgressBox
          progress={state.progress}
          onDismiss={() => model.dismissProgress()}
        />
      )}
      {open ? (
        <Detail {...props} dep={open} />
      ) : (
        <>
          <div className="jp-mlops-toolbar">
            <label>
              <input
                type="checkbox"
                checked={state.showAll}
                onChange={e =>
                  void model.setShowAll(e.target.checked).catch(() => undefined)
                }
              />{' '}
              Show stopped
            </label>
            <button
              className="jp-mlops-button"
              onClick={() => props.execute(CommandIDs.deployModel, {})}
            >
              Deploy…
            </button>
          </div>
          {state.deployments.length === 0 && !state.error ? (
            <EmptyState
              title="No model server is running"
              hint="Deploy a model version from the Models view, or with mlops deploy churn@production."
            />
          ) : (
            <ul className="jp-mlops-list" aria-label="Deployments">
              {state.deployments.map(dep => (
                <li
                  key={dep.id}
                  className="jp-mlops-item jp-mlops-deployment"
                  data-deployment={dep.id}
                  tabIndex={0}
                  onClick={() =>
                    void model.openDeployment(dep.id).catch(() => undefined)
                  }
                  onKeyDown={e =>
                    e.key === 'Enter' &&
                    void model.openDeployment(dep.id).catch(() => undefined)
                  }
                >
                  <div className="jp-mlops-item-title">
                    <StatusDot dep={dep} /> #{dep.id} {dep.ref}
                  </div>
                  <div className="jp-mlops-item-meta">
                    <UrlLine dep={dep} execute={props.execute} /> · {dep.status}
                    {dep.health.uptime_s !== null &&
                      ` · up ${formatUptime(dep.health.uptime_s)}`}
                  </div>
                </li>
              ))}
            </ul>
          )}
        </>
      )}
    </>
  );
}
