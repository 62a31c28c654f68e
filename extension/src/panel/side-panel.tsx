/**
 * The left-sidebar panel: follows the active notebook, shows its runs and its version history,
 * and refreshes itself (polling with backoff, plus a poke when a cell finishes or the notebook
 * is saved).
 */
import { Notification } from '@jupyterlab/apputils';
import { ReactWidget } from '@jupyterlab/ui-components';
import { Message } from '@lumino/messaging';
import React from 'react';

import { MlopsAPI, listExperiments } from '../api';
import { DeploymentsModel } from '../deployments/deployments-model';
import { ModelsModel } from '../models/models-model';
import { RunScope, RunsModel } from '../runs/runs-model';
import { SchedulesModel } from '../schedules/schedules-model';
import { DEFAULT_SETTINGS, IPanelSettings } from '../tokens';
import { DiffSide, VersionsModel } from '../versions/versions-model';
import { PanelView } from './panel-view';
import { Poller } from './poller';
import type { ExecuteCommand, PanelTab } from './view-props';

export type { PanelTab } from './view-props';
export { PANEL_TABS } from './view-props';

/** Options of {@link MlopsPanel}. */
export interface IMlopsPanelOptions {
  /** Open a file in JupyterLab (a restored notebook). */
  openFile: (path: string) => void;
  /** Initial settings. */
  settings?: IPanelSettings;
  /** Run a palette command (the views' buttons); without it the buttons do nothing. */
  execute?: ExecuteCommand;
  /** Open the executed notebook of a scheduled run (an artifact of the run). */
  openOutput?: (runId: string, artifact: string) => void;
  /** Show a diff in the main area; without it the diff shows inside the panel. */
  openDiff?: (
    diff: MlopsAPI.IDiffNotebooksResponse,
    sides: [DiffSide, DiffSide],
    path: string
  ) => void;
}

/** The jupyter-mlops side panel widget. */
export class MlopsPanel extends ReactWidget {
  /** @param options callbacks and settings. */
  constructor(options: IMlopsPanelOptions) {
    super();
    this.addClass('jp-mlops-panel');
    this.openFile = options.openFile;
    this.openDiff = options.openDiff ?? null;
    const settings = options.settings ?? DEFAULT_SETTINGS;
    this.runs = new RunsModel(settings.pageSize);
    this.versions = new VersionsModel();
    this.execute = options.execute ?? (() => undefined);
    this.openOutput = options.openOutput ?? (() => undefined);
    this.runs.onChange = () => this.update();
    this.versions.onChange = () => this.update();
    this.models.onChange = () => this.update();
    this.deployments.onChange = () => this.update();
    this.schedules.onChange = () => this.update();
    this.poller = new Poller(() => this.poll(), {
      interval: settings.refreshInterval * 1000,
      maxInterval: settings.maxRefreshInterval * 1000
    });
  }

  /** The runs view's model. */
  readonly runs: RunsModel;
  /** The versions view's model. */
  readonly versions: VersionsModel;
  /** The models view's model. */
  readonly models = new ModelsModel();
  /** The deployments view's model. */
  readonly deployments = new DeploymentsModel();
  /** The schedules view's model. */
  readonly schedules = new SchedulesModel();
  /** Runs a palette command. */
  readonly execute: ExecuteCommand;
  /** The refresh timer. */
  readonly poller: Poller;

  /** The notebook the panel follows (Jupyter path), null when none is active. */
  get notebookPath(): string | null {
    return this.path;
  }

  /** Apply new settings. */
  configure(settings: IPanelSettings): void {
    this.poller.configure({
      interval: settings.refreshInterval * 1000,
      maxInterval: settings.maxRefreshInterval * 1000
    });
    if (settings.pageSize !== this.runs.state.pageSize) {
      void this.runs.setPageSize(settings.pageSize).catch(() => undefined);
    }
  }

  /** Follow another notebook (null when no notebook is active). */
  async setNotebook(path: string | null): Promise<void> {
    if (path === this.path) {
      return;
    }
    this.path = path;
    this.openRunId = null;
    const scope: RunScope = path ? { kind: 'notebook', path } : { kind: 'all' };
    await Promise.all([
      this.runs.setScope(scope).catch(() => undefined),
      this.versions.setPath(path).catch(() => undefined)
    ]);
  }

  /** The view shown. */
  get currentTab(): PanelTab {
    return this.tab;
  }

  /** Switch views (a lifecycle view loads at once). */
  showTab(tab: PanelTab): void {
    const changed = tab !== this.tab;
    this.tab = tab;
    this.update();
    if (changed && this.lifecycleModel()) {
      void this.refresh();
    }
  }

  /** Open a run's detail in the runs view. */
  openRun(runId: string): void {
    this.openRunId = runId;
    this.tab = 'runs';
    this.update();
  }

  /** The id of the run whose detail the runs view shows, null when none. */
  get shownRunId(): string | null {
    return this.openRunId;
  }

  /**
   * Reload what is shown after a change made outside it (a palette command edited the open
   * run): the detail and its notes reload, then the table refreshes.
   */
  reloadShown(): Promise<void> {
    this.refreshKey += 1;
    this.update();
    return this.refresh();
  }

  /** Close the run detail (back to the table). */
  closeRun(): void {
    this.openRunId = null;
    this.update();
  }

  /** Refresh now (a cell finished, the notebook was saved, the user asked). */
  refresh(): Promise<void> {
    return this.poller.poke();
  }

  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    this.poller.start(); // its first poll, at once, loads the scope menu too
  }

  protected onAfterHide(msg: Message): void {
    super.onAfterHide(msg);
    this.poller.stop();
  }

  dispose(): void {
    this.poller.stop();
    super.dispose();
  }

  /** The data of the lifecycle view shown, if one is (only the one shown polls). */
  private lifecycleModel(): {
    refresh(): Promise<boolean>;
  } | null {
    switch (this.tab) {
      case 'models':
        return this.models;
      case 'deployments':
        return this.deployments;
      case 'schedules':
        return this.schedules;
      default:
        return null;
    }
  }

  private async poll(): Promise<boolean> {
    const lifecycle = this.lifecycleModel();
    // The scope menu is reloaded on every poll: a run of another experiment (a script, a
    // schedule) changes neither the page shown nor its signature.
    const [runsChanged, versionsChanged, lifecycleChanged, experimentsChanged] =
      await Promise.all([
        this.runs.refresh(),
        this.versions.refresh(),
        lifecycle ? lifecycle.refresh() : Promise.resolve(false),
        this.loadExperiments()
      ]);
    if (runsChanged || versionsChanged) {
      this.refreshKey += 1;
      this.update();
    }
    return (
      runsChanged || versionsChanged || lifecycleChanged || experimentsChanged
    );
  }

  /** Reload the experiments of the scope menu; resolves true when they changed. */
  private async loadExperiments(): Promise<boolean> {
    try {
      const experiments = await listExperiments();
      const changed =
        JSON.stringify(experiments) !== JSON.stringify(this.experiments);
      if (changed) {
        this.experiments = experiments;
        this.update();
      }
      return changed;
    } catch {
      return false; // the runs view shows the connection error already
    }
  }

  private async restore(versionId: number): Promise<void> {
    try {
      const path = await this.versions.restore(versionId);
      Notification.success(`Restored v${versionId} as ${path}`, {
        autoClose: 5000
      });
      this.openFile(path);
    } catch (error) {
      Notification.error(
        `Could not restore v${versionId}: ${(error as Error).message}`
      );
    }
  }

  private async diff(a: DiffSide, b: DiffSide): Promise<void> {
    this.tab = 'versions';
    this.update();
    try {
      const diff = await this.versions.compareSides(a, b);
      const { diffSides, path } = this.versions.state;
      if (this.openDiff && diffSides && path) {
        this.openDiff(diff, diffSides, path);
        this.versions.closeDiff();
      }
    } catch (error) {
      Notification.error(`Could not compare: ${(error as Error).message}`);
    }
  }

  render(): JSX.Element {
    return (
      <PanelView
        tab={this.tab}
        notebookPath={this.path}
        experiments={this.experiments}
        runs={this.runs}
        versions={this.versions}
        openRunId={this.openRunId}
        refreshKey={this.refreshKey}
        onTab={tab => this.showTab(tab)}
        onScope={scope => void this.runs.setScope(scope).catch(() => undefined)}
        models={this.models}
        deployments={this.deployments}
        schedules={this.schedules}
        execute={this.execute}
        onOpenOutput={this.openOutput}
        onOpenRun={id => this.openRun(id)}
        onCloseRun={() => this.closeRun()}
        onRestore={id => void this.restore(id)}
        onDiff={(a, b) => void this.diff(a, b)}
        onRefresh={() => void this.refresh()}
      />
    );
  }

  private readonly openFile: (path: string) => void;
  private readonly openOutput: (runId: string, artifact: string) => void;
  private readonly openDiff: IMlopsPanelOptions['openDiff'] | null;
  private path: string | null = null;
  private tab: PanelTab = 'runs';
  private openRunId: string | null = null;
  private refreshKey = 0;
  private experiments: MlopsAPI.IExperiment[] = [];
}
