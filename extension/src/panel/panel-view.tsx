/**
 * The panel's React tree: header (scope, refresh), tabs, and the runs or versions view.
 */
import React from 'react';

import { MlopsAPI } from '../api';
import { DeploymentsModel } from '../deployments/deployments-model';
import { DeploymentsView } from '../deployments/deployments-view';
import { ModelsModel } from '../models/models-model';
import { ModelsView } from '../models/models-view';
import { RunDetail } from '../runs/run-detail';
import { RunTable } from '../runs/run-table';
import { RunScope, RunsModel } from '../runs/runs-model';
import { SchedulesModel } from '../schedules/schedules-model';
import { SchedulesView } from '../schedules/schedules-view';
import { NotebookDiff } from '../versions/notebook-diff';
import { VersionList } from '../versions/version-list';
import { DiffSide, VersionsModel } from '../versions/versions-model';
import { EmptyState } from './empty-state';
import { ExecuteCommand, PANEL_TABS, PanelTab } from './view-props';

/** Props of {@link PanelView}. */
export interface IPanelViewProps {
  /** Active view. */
  tab: PanelTab;
  /** The followed notebook. */
  notebookPath: string | null;
  /** Known experiments (scope menu). */
  experiments: MlopsAPI.IExperiment[];
  /** Runs state holder. */
  runs: RunsModel;
  /** Versions state holder. */
  versions: VersionsModel;
  /** Models view data. */
  models: ModelsModel;
  /** Deployments view data. */
  deployments: DeploymentsModel;
  /** Schedules view data. */
  schedules: SchedulesModel;
  /** Run a palette command. */
  execute: ExecuteCommand;
  /** Open a scheduled run's executed notebook. */
  onOpenOutput: (runId: string, artifact: string) => void;
  /** The run whose detail is open. */
  openRunId: string | null;
  /** Bumped on every change the poller sees. */
  refreshKey: number;
  /** Switch views. */
  onTab: (tab: PanelTab) => void;
  /** Change what the runs table lists. */
  onScope: (scope: RunScope) => void;
  /** Open a run's detail. */
  onOpenRun: (runId: string) => void;
  /** Close the run detail. */
  onCloseRun: () => void;
  /** Restore a version. */
  onRestore: (versionId: number) => void;
  /** Show a diff. */
  onDiff: (a: DiffSide, b: DiffSide) => void;
  /** Refresh now. */
  onRefresh: () => void;
}

function scopeValue(scope: RunScope): string {
  return scope.kind === 'experiment' ? `experiment:${scope.name}` : scope.kind;
}

function parseScope(value: string, notebookPath: string | null): RunScope {
  if (value.startsWith('experiment:')) {
    return { kind: 'experiment', name: value.slice('experiment:'.length) };
  }
  return value === 'notebook' && notebookPath
    ? { kind: 'notebook', path: notebookPath }
    : { kind: 'all' };
}

function RunsView(props: IPanelViewProps): JSX.Element {
  const { runs } = props;
  const state = runs.state;
  if (props.openRunId) {
    return (
      <RunDetail
        runId={props.openRunId}
        refreshKey={props.refreshKey}
        onClose={props.onCloseRun}
        onDiffVersion={v => props.onDiff(v.id, 'current')}
        onOpenRun={props.onOpenRun}
      />
    );
  }
  const empty =
    state.total === 0 && !state.filter && !state.failedOnly && !state.error;
  return (
    <>
      <div className="jp-mlops-toolbar">
        <select
          className="jp-mlops-select"
          aria-label="Runs to show"
          value={scopeValue(state.scope)}
          onChange={e =>
            props.onScope(parseScope(e.target.value, props.notebookPath))
          }
        >
          {props.notebookPath && (
            <option value="notebook">This notebook</option>
          )}
          <option value="all">All runs</option>
          {props.experiments.map(e => (
            <option key={e.id} value={`experiment:${e.name}`}>
              Experiment: {e.name} ({e.run_count})
            </option>
          ))}
        </select>
      </div>
      {empty ? (
        <EmptyState
          title={
            state.scope.kind === 'notebook'
              ? 'No runs from this notebook yet'
              : 'No runs yet'
          }
          teach
        />
      ) : (
        <RunTable
          model={runs}
          state={state}
          pageCount={runs.pageCount}
          onSort={(entity, key) =>
            void runs.toggleSort(entity, key).catch(() => undefined)
          }
          onFilter={f => void runs.setFilter(f).catch(() => undefined)}
          onPage={p => void runs.setPage(p).catch(() => undefined)}
          onOpen={run => props.onOpenRun(run.id)}
        />
      )}
    </>
  );
}

function VersionsView(props: IPanelViewProps): JSX.Element {
  const { versions } = props;
  const state = versions.state;
  if (!props.notebookPath) {
    return <EmptyState title="Open a notebook to see its versions" />;
  }
  if (state.diff && state.diffSides) {
    return (
      <NotebookDiff
        diff={state.diff}
        sides={state.diffSides}
        onClose={() => versions.closeDiff()}
      />
    );
  }
  if (!state.versions.length && !state.loading) {
    return (
      <EmptyState
        title="No versions of this notebook yet"
        hint="A version is stored each time a tracked cell runs from a changed notebook."
        teach
      />
    );
  }
  return (
    <VersionList
      state={state}
      onToggle={side => versions.toggle(side)}
      onCompare={() => {
        const [a, b] = state.selected;
        props.onDiff(a, b);
      }}
      onRestore={props.onRestore}
      onOpenRun={props.onOpenRun}
    />
  );
}

function tabLabel(tab: PanelTab, props: IPanelViewProps): string {
  switch (tab) {
    case 'runs':
      return `Runs (${props.runs.state.total})`;
    case 'versions':
      return 'Versions';
    case 'models':
      return 'Models';
    case 'deployments':
      return 'Deployments';
    case 'schedules':
      return 'Schedules';
  }
}

function TabBody(props: IPanelViewProps): JSX.Element {
  switch (props.tab) {
    case 'runs':
      return <RunsView {...props} />;
    case 'versions':
      return <VersionsView {...props} />;
    case 'models':
      return (
        <ModelsView
          model={props.models}
          execute={props.execute}
          onOpenRun={props.onOpenRun}
        />
      );
    case 'deployments':
      return (
        <DeploymentsView model={props.deployments} execute={props.execute} />
      );
    case 'schedules':
      return (
        <SchedulesView
          model={props.schedules}
          notebookPath={props.notebookPath}
          execute={props.execute}
          onOpenRun={props.onOpenRun}
          onOpenOutput={props.onOpenOutput}
        />
      );
  }
}

/** The whole panel. */
export function PanelView(props: IPanelViewProps): JSX.Element {
  const name = props.notebookPath ? props.notebookPath.split('/').pop() : null;
  return (
    <div className="jp-mlops-root">
      <div className="jp-mlops-header">
        <span className="jp-mlops-title">MLOps</span>
        <span className="jp-mlops-notebook" title={props.notebookPath ?? ''}>
          {name ?? 'no notebook'}
        </span>
        <button
          className="jp-mlops-button"
          title="Refresh now"
          onClick={props.onRefresh}
        >
          ⟳
        </button>
      </div>
      <div className="jp-mlops-tabs jp-mlops-tabs-wrap" role="tablist">
        {PANEL_TABS.map(tab => (
          <button
            key={tab}
            role="tab"
            aria-selected={props.tab === tab}
            className={`jp-mlops-tab${props.tab === tab ? ' jp-mod-active' : ''}`}
            onClick={() => props.onTab(tab)}
          >
            {tabLabel(tab, props)}
          </button>
        ))}
      </div>
      <div className="jp-mlops-body">
        <TabBody {...props} />
      </div>
    </div>
  );
}
