/**
 * A run's detail: params, metrics as charts, artifacts (images inline), environment, the
 * notebook version it used, its parent and child runs, and any warning (such as cells run out
 * of order).
 */
import React, { useEffect, useMemo, useState } from 'react';

import { MlopsAPI, getArtifactBlob, getMetric, getRun } from '../api';
import { NotesSection } from '../notes/notes-section';
import { RunFamily } from './child-runs';
import { MetricChart } from './metric-chart';
import { NOTE_TAG } from './run-edits-model';
import { confirmDeleteRun, editTags } from './run-edits';
import {
  errorSummary,
  formatDuration,
  formatValue,
  runLabel
} from './runs-model';

/** Props of {@link RunDetail}. */
export interface IRunDetailProps {
  /** The run to show. */
  runId: string;
  /** Changes whenever the panel refreshes, so a running run updates. */
  refreshKey: number;
  /** Back to the table. */
  onClose: () => void;
  /** Show the diff of this run's notebook version against the notebook now. */
  onDiffVersion: (version: MlopsAPI.INotebookVersion) => void;
  /** Open another run's detail (its parent or one of its child runs). */
  onOpenRun: (runId: string) => void;
}

/** How many metric charts a detail view draws, and the points per chart. */
const MAX_CHARTS = 8;
const CHART_POINTS = 300;

function isImage(artifact: MlopsAPI.IArtifact): boolean {
  return /^image\/(png|jpeg|gif|webp|svg\+xml)$/.test(
    artifact.media_type ?? ''
  );
}

function ArtifactView(props: {
  runId: string;
  artifact: MlopsAPI.IArtifact;
}): JSX.Element {
  const { artifact } = props;
  const [url, setUrl] = useState<string | null>(null);
  useEffect(() => {
    let objectUrl: string | null = null;
    if (isImage(artifact)) {
      getArtifactBlob(props.runId, artifact.path)
        .then(blob => setUrl((objectUrl = URL.createObjectURL(blob))))
        .catch(() => setUrl(null));
    }
    return () => {
      if (objectUrl) {
        URL.revokeObjectURL(objectUrl);
      }
    };
  }, [props.runId, artifact.path, artifact.blob_hash]);
  const download = async () => {
    const blob = await getArtifactBlob(props.runId, artifact.path);
    const link = document.createElement('a');
    link.href = URL.createObjectURL(blob);
    link.download = artifact.path.split('/').pop() ?? 'artifact';
    link.click();
    setTimeout(() => URL.revokeObjectURL(link.href), 1000);
  };
  return (
    <li className="jp-mlops-artifact">
      <button className="jp-mlops-link" onClick={() => void download()}>
        {artifact.path}
      </button>{' '}
      <span className="jp-mlops-muted">
        {artifact.media_type} · {artifact.size} B
      </span>
      {url && (
        <img
          className="jp-mlops-artifact-image"
          src={url}
          alt={artifact.path}
        />
      )}
    </li>
  );
}

/** The tags without the note (the note has its own section). */
function withoutNote(tags: Record<string, string>): Record<string, string> {
  const shown = { ...tags };
  delete shown[NOTE_TAG];
  return shown;
}

/** A key with line-break chances after its dots and underscores (`mlops.cell.count`). */
function breakable(key: string): React.ReactNode {
  return key.split(/(?<=[._/])/).map((part, i) => (
    <React.Fragment key={i}>
      {i > 0 && <wbr />}
      {part}
    </React.Fragment>
  ));
}

function KeyValues(props: {
  values: Record<string, string | number>;
}): JSX.Element {
  const keys = Object.keys(props.values).sort();
  if (!keys.length) {
    return <p className="jp-mlops-muted">none</p>;
  }
  return (
    <table className="jp-mlops-kv">
      <tbody>
        {keys.map(k => (
          <tr key={k}>
            <th title={k}>{breakable(k)}</th>
            <td>
              {typeof props.values[k] === 'number'
                ? formatValue(props.values[k] as number)
                : props.values[k]}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** One metric of one run (the series array is memoised so uPlot redraws only on new data). */
function RunMetricChart(props: {
  label: string;
  metric: MlopsAPI.IDescribeMetricResponse;
}): JSX.Element {
  const series = useMemo(
    () => [{ label: props.label, points: props.metric.points }],
    [props.label, props.metric]
  );
  return <MetricChart name={props.metric.key} series={series} />;
}

/** The detail of one run, reloaded whenever `refreshKey` changes. */
export function RunDetail(props: IRunDetailProps): JSX.Element {
  const [run, setRun] = useState<MlopsAPI.IDescribeRunResponse | null>(null);
  const [series, setSeries] = useState<MlopsAPI.IDescribeMetricResponse[]>([]);
  const [error, setError] = useState<string | null>(null);
  // Bumped after an edit so the run reloads at once instead of at the next poll.
  const [edits, setEdits] = useState(0);
  const afterEdit = (changed: boolean) => changed && setEdits(n => n + 1);
  useEffect(() => {
    let cancelled = false;
    (async () => {
      try {
        const detail = await getRun(props.runId);
        const charts = await Promise.all(
          detail.metric_keys
            .slice(0, MAX_CHARTS)
            .map(key => getMetric(detail.id, key, CHART_POINTS))
        );
        if (!cancelled) {
          setRun(detail);
          setSeries(charts);
          setError(null);
        }
      } catch (err) {
        if (!cancelled) {
          setError((err as Error).message);
        }
      }
    })();
    return () => {
      cancelled = true;
    };
  }, [props.runId, props.refreshKey, edits]);

  if (error) {
    return (
      <div className="jp-mlops-detail">
        <button className="jp-mlops-button" onClick={props.onClose}>
          ← Runs
        </button>
        <div className="jp-mlops-error">{error}</div>
      </div>
    );
  }
  if (!run) {
    return <div className="jp-mlops-detail jp-mlops-muted">Loading run…</div>;
  }
  const env = run.environment as Record<string, any> | null;
  const label = runLabel(run);
  return (
    <div className="jp-mlops-detail" data-run-id={run.id}>
      <div className="jp-mlops-detail-header">
        <button className="jp-mlops-button" onClick={props.onClose}>
          ← Runs
        </button>
        <span className={`jp-mlops-status jp-mlops-status-${run.status}`}>
          {run.status}
        </span>
        <h3 className="jp-mlops-detail-title jp-mlops-ellipsis" title={label}>
          {label}
        </h3>
        <button
          className="jp-mlops-button jp-mlops-delete-run"
          title="Delete this run and its child runs"
          disabled={run.status === 'running'}
          onClick={() =>
            void confirmDeleteRun(run).then(
              deleted => deleted && props.onClose()
            )
          }
        >
          Delete
        </button>
      </div>
      <p className="jp-mlops-muted">
        {run.experiment} · {run.id} · started{' '}
        {new Date(run.start_time * 1000).toLocaleString()}
        {run.duration !== null && ` · ${formatDuration(run.duration)}`} ·{' '}
        {run.source}
      </p>
      <RunFamily
        run={run}
        refreshKey={props.refreshKey}
        onOpenRun={props.onOpenRun}
      />
      {run.warnings.map(w => (
        <div key={w} className="jp-mlops-warning" role="alert">
          ⚠ {w}
        </div>
      ))}
      {run.error && (
        <>
          <div className="jp-mlops-error jp-mlops-error-summary" role="alert">
            {errorSummary(run.error, 400)}
          </div>
          <details className="jp-mlops-traceback-details">
            <summary className="jp-mlops-muted">Traceback</summary>
            <pre className="jp-mlops-error jp-mlops-traceback">{run.error}</pre>
          </details>
        </>
      )}
      <NotesSection kind="run" target={run.id} refreshKey={props.refreshKey} />
      <h4>Parameters</h4>
      <KeyValues values={run.params} />
      <h4>Metrics</h4>
      {series.length ? (
        <div className="jp-mlops-charts">
          {series.map(s => (
            <RunMetricChart key={s.key} label={label} metric={s} />
          ))}
        </div>
      ) : (
        <p className="jp-mlops-muted">none</p>
      )}
      <h4>Artifacts</h4>
      {run.artifacts.length ? (
        <ul className="jp-mlops-artifacts">
          {run.artifacts.map(a => (
            <ArtifactView key={a.path} runId={run.id} artifact={a} />
          ))}
        </ul>
      ) : (
        <p className="jp-mlops-muted">none</p>
      )}
      <h4>Notebook version</h4>
      {run.notebook_version ? (
        <p>
          v{run.notebook_version.id} ·{' '}
          <code>{run.notebook_version.short_hash}</code> ·{' '}
          {run.notebook_version.jupyter_path ?? run.notebook_version.path}{' '}
          <button
            className="jp-mlops-button"
            onClick={() => props.onDiffVersion(run.notebook_version!)}
          >
            Diff with the notebook now
          </button>
        </p>
      ) : (
        <p className="jp-mlops-muted">not recorded</p>
      )}
      <h4>
        Tags{' '}
        <button
          className="jp-mlops-link jp-mlops-edit-tags"
          onClick={() => void editTags(run).then(afterEdit)}
        >
          edit
        </button>
      </h4>
      <KeyValues values={withoutNote(run.tags)} />
      <h4>Environment</h4>
      {env ? (
        <details className="jp-mlops-env">
          <summary>
            {String(env.python ?? env.python_version ?? 'Python')}{' '}
            {env.platform ? `· ${String(env.platform)}` : ''}
          </summary>
          <pre className="jp-mlops-code">{JSON.stringify(env, null, 1)}</pre>
        </details>
      ) : (
        <p className="jp-mlops-muted">not recorded</p>
      )}
    </div>
  );
}
