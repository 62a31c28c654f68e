/**
 * The Models view: registered models → a model's versions table and alias history → a
 * version's detail. Buttons run the palette commands (so every action has one place that
 * confirms and reports).
 */
import React from 'react';

import { MlopsAPI } from '../api';
import { EmptyState } from '../panel/empty-state';
import type { ExecuteCommand } from '../panel/view-props';
import { formatValue } from '../runs/runs-model';
import { CommandIDs } from '../tokens';
import { relativeTime } from '../versions/versions-model';
import {
  ModelsModel,
  aliasChips,
  describeMove,
  formatTags
} from './models-model';
import { AliasChips } from './alias-chips';
import { VersionDetail } from './version-detail';

/** Props of {@link ModelsView}. */
export interface IModelsViewProps {
  /** The view's data. */
  model: ModelsModel;
  /** Run a palette command. */
  execute: ExecuteCommand;
  /** Open a run in the runs view. */
  onOpenRun: (runId: string) => void;
}

function ModelList(props: IModelsViewProps): JSX.Element {
  const { models, error } = props.model.state;
  if (!models.length && !error) {
    return (
      <EmptyState
        title="No registered models yet"
        hint={
          'Register one from a notebook: mlops.log_model(model, "churn", input_example=X) inside a run.'
        }
      />
    );
  }
  return (
    <ul className="jp-mlops-list" aria-label="Models">
      {models.map(m => (
        <li
          key={m.name}
          className="jp-mlops-item jp-mlops-model"
          data-model={m.name}
          tabIndex={0}
          onClick={() =>
            void props.model.openModel(m.name).catch(() => undefined)
          }
          onKeyDown={e => {
            if (e.key === 'Enter') {
              void props.model.openModel(m.name).catch(() => undefined);
            }
          }}
        >
          <div className="jp-mlops-item-title">
            {m.name} <AliasChips aliases={aliasChips(m.aliases)} />
          </div>
          <div className="jp-mlops-item-meta">
            {m.version_count} version{m.version_count === 1 ? '' : 's'}
            {m.latest_version !== null && ` · latest v${m.latest_version}`} ·
            updated {relativeTime(m.updated_at)}
          </div>
          {m.description && (
            <div className="jp-mlops-item-meta">{m.description}</div>
          )}
        </li>
      ))}
    </ul>
  );
}

function VersionsTable(
  props: IModelsViewProps & { name: string }
): JSX.Element {
  const { versions, metricKeys, history, models } = props.model.state;
  const summary = models.find(m => m.name === props.name);
  const metrics = metricKeys.slice(0, 3);
  const open = (v: MlopsAPI.IModelVersionSummary) =>
    void props.model.openVersion(v.version).catch(() => undefined);
  return (
    <div className="jp-mlops-detail jp-mlops-model-detail">
      <div className="jp-mlops-detail-header">
        <button
          className="jp-mlops-button"
          onClick={() =>
            void props.model.openModel(null).catch(() => undefined)
          }
        >
          ← Models
        </button>
        <span className="jp-mlops-detail-title">{props.name}</span>
      </div>
      <p className="jp-mlops-muted">
        {summary?.description || 'No description.'}{' '}
        <button
          className="jp-mlops-link"
          onClick={() =>
            props.execute(CommandIDs.editModel, { name: props.name })
          }
        >
          Edit
        </button>
      </p>
      {summary && Object.keys(summary.tags).length > 0 && (
        <p className="jp-mlops-muted" title="The model's own tags">
          Tags: {formatTags(summary.tags)}
        </p>
      )}
      {summary && (
        <AliasChips
          aliases={aliasChips(summary.aliases)}
          onRemove={alias =>
            props.execute(CommandIDs.deleteAlias, { name: props.name, alias })
          }
        />
      )}
      <div className="jp-mlops-table-scroll">
        <table className="jp-mlops-table jp-mlops-versions-table">
          <thead>
            <tr>
              <th>Version</th>
              <th>Aliases</th>
              <th>Created</th>
              {metrics.map(k => (
                <th key={k}>{k}</th>
              ))}
              <th>Tags</th>
            </tr>
          </thead>
          <tbody>
            {versions.map(v => (
              <tr
                key={v.version}
                className="jp-mlops-run-row jp-mlops-model-version"
                data-version={v.version}
                tabIndex={0}
                onClick={() => open(v)}
                onKeyDown={e => e.key === 'Enter' && open(v)}
              >
                <td>v{v.version}</td>
                <td>
                  <AliasChips aliases={v.aliases.map(a => [a, null])} />
                </td>
                <td>{relativeTime(v.created_at)}</td>
                {metrics.map(k => (
                  <td key={k} className="jp-mlops-number">
                    {formatValue(v.metrics[k])}
                  </td>
                ))}
                <td title={formatTags(v.tags)}>
                  {Object.keys(v.tags).length || ''}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <h4>Alias history</h4>
      {history.length ? (
        <ul className="jp-mlops-lineage jp-mlops-alias-history">
          {history.map((move, i) => (
            <li key={i}>
              {describeMove(move)}{' '}
              <span className="jp-mlops-muted">
                {move.actor ? `by ${move.actor} · ` : ''}
                {relativeTime(move.changed_at)}
              </span>
            </li>
          ))}
        </ul>
      ) : (
        <p className="jp-mlops-muted">No alias has been set yet.</p>
      )}
    </div>
  );
}

/** The whole Models view. */
export function ModelsView(props: IModelsViewProps): JSX.Element {
  const state = props.model.state;
  return (
    <>
      {state.error && <div className="jp-mlops-error">{state.error}</div>}
      {state.model === null ? (
        <ModelList {...props} />
      ) : state.version === null ? (
        <VersionsTable {...props} name={state.model} />
      ) : (
        <VersionDetail
          name={state.model}
          detail={state.detail}
          onBack={() =>
            void props.model.openVersion(null).catch(() => undefined)
          }
          execute={props.execute}
          onOpenRun={props.onOpenRun}
          onChanged={() => void props.model.refresh().catch(() => undefined)}
        />
      )}
    </>
  );
}
