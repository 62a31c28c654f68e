/**
 * One model version: aliases as chips, the buttons Set alias / Promote / Deploy / Edit, its
 * signature, its run's metrics, and its lineage (run → notebook version → datasets).
 */
import React from 'react';

import { MlopsAPI } from '../api';
import type { ExecuteCommand } from '../panel/view-props';
import { formatValue } from '../runs/runs-model';
import { CommandIDs } from '../tokens';
import { NotesSection } from '../notes/notes-section';
import { relativeTime } from '../versions/versions-model';
import { LineageGraph } from '../lineage/lineage-graph';
import { AliasChips } from './alias-chips';
import { CardSection } from './card-section';

/** Props of {@link VersionDetail}. */
export interface IVersionDetailProps {
  /** Model name. */
  name: string;
  /** The version (null while it loads). */
  detail: MlopsAPI.IDescribeModelVersionResponse | null;
  /** Back to the versions table. */
  onBack: () => void;
  /** Run a palette command. */
  execute: ExecuteCommand;
  /** Open a run in the runs view. */
  onOpenRun: (runId: string) => void;
  /** Reload the version (its card changed its description). */
  onChanged?: () => void;
}

function Signature(props: {
  signature: MlopsAPI.IModelSignature | null;
}): JSX.Element {
  const { signature } = props;
  if (!signature) {
    return <p className="jp-mlops-muted">No signature recorded.</p>;
  }
  return (
    <table className="jp-mlops-kv jp-mlops-signature">
      <tbody>
        {signature.inputs.map(f => (
          <tr key={`in-${f.name}`}>
            <th>{f.name}</th>
            <td>{f.type}</td>
          </tr>
        ))}
        {signature.outputs.map(f => (
          <tr key={`out-${f.name}`}>
            <th>→ {f.name}</th>
            <td>{f.type}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Lineage(props: {
  lineage: MlopsAPI.IModelLineage;
  onOpenRun: (runId: string) => void;
}): JSX.Element {
  const { run, notebook_version: nbv, datasets } = props.lineage;
  if (!run) {
    return (
      <p className="jp-mlops-muted">No run recorded (or it was deleted).</p>
    );
  }
  return (
    <ul className="jp-mlops-lineage">
      <li>
        Run{' '}
        <button
          className="jp-mlops-link"
          onClick={() => props.onOpenRun(run.id)}
        >
          {run.id.slice(0, 8)}
        </button>
        {run.name ? ` ${run.name}` : ''} · {run.experiment} · {run.status}
        {nbv && (
          <ul className="jp-mlops-lineage">
            <li>
              Notebook {nbv.jupyter_path ?? nbv.path} v{nbv.id} ·{' '}
              {nbv.short_hash}
              {datasets.length > 0 && (
                <ul className="jp-mlops-lineage">
                  {datasets.map(d => (
                    <li key={`${d.role}-${d.version_id}`}>
                      {d.role === 'output' ? 'wrote' : 'read'} dataset {d.name}{' '}
                      v{d.version_id} · {d.hash.slice(0, 10)}
                      {d.rows !== null ? ` · ${d.rows} rows` : ''}
                    </li>
                  ))}
                </ul>
              )}
            </li>
          </ul>
        )}
      </li>
    </ul>
  );
}

/** The version's detail. */
export function VersionDetail(props: IVersionDetailProps): JSX.Element {
  const { detail, name } = props;
  const args = detail ? { name, version: detail.version } : { name };
  return (
    <div className="jp-mlops-detail jp-mlops-version-detail">
      <div className="jp-mlops-detail-header">
        <button className="jp-mlops-button" onClick={props.onBack}>
          ← {name}
        </button>
        <span className="jp-mlops-detail-title">
          {name} {detail ? `v${detail.version}` : ''}
        </span>
      </div>
      {detail && (
        <>
          <AliasChips aliases={detail.aliases.map(a => [a, null])} />
          <div className="jp-mlops-actions">
            <button
              className="jp-mlops-button"
              onClick={() => props.execute(CommandIDs.setAlias, args)}
            >
              Set alias
            </button>
            <button
              className="jp-mlops-button"
              onClick={() => props.execute(CommandIDs.promoteModel, args)}
            >
              Promote
            </button>
            <button
              className="jp-mlops-button jp-mlops-primary"
              onClick={() =>
                props.execute(CommandIDs.deployModel, {
                  ref: `${name}/${detail.version}`
                })
              }
            >
              Deploy
            </button>
            <button
              className="jp-mlops-button"
              onClick={() => props.execute(CommandIDs.editModel, args)}
            >
              Edit
            </button>
          </div>
          <table className="jp-mlops-kv">
            <tbody>
              <tr>
                <th>Created</th>
                <td>{relativeTime(detail.created_at)}</td>
              </tr>
              <tr>
                <th>Format</th>
                <td>
                  {detail.flavor} · {detail.format} ·{' '}
                  {detail.blob_hash.slice(0, 10)}
                </td>
              </tr>
              <tr>
                <th>Description</th>
                <td>{detail.description || '—'}</td>
              </tr>
              <tr>
                <th>Tags</th>
                <td>
                  <span className="jp-mlops-chips">
                    {Object.entries(detail.tags).map(([k, v]) => (
                      <span
                        key={k}
                        className="jp-mlops-chip"
                        title={`${k}=${v}`}
                      >
                        {k}={v}
                      </span>
                    ))}
                  </span>
                </td>
              </tr>
            </tbody>
          </table>
          <h4>Metrics of its run</h4>
          <table className="jp-mlops-kv jp-mlops-version-metrics">
            <tbody>
              {Object.entries(detail.metrics).map(([k, v]) => (
                <tr key={k}>
                  <th>{k}</th>
                  <td className="jp-mlops-number">{formatValue(v)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <h4>Signature</h4>
          <Signature signature={detail.signature} />
          <h4>Lineage</h4>
          <Lineage lineage={detail.lineage} onOpenRun={props.onOpenRun} />
          <LineageGraph
            graph={detail.lineage.graph}
            onOpenRun={props.onOpenRun}
          />
          <CardSection
            name={name}
            version={detail.version}
            description={detail.description}
            onSaved={props.onChanged}
          />
          <NotesSection
            kind="model_version"
            target={`${name}/${detail.version}`}
            refreshKey={detail.aliases.length}
          />
        </>
      )}
    </div>
  );
}
