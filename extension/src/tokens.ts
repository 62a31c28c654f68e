/**
 * Ids and shared names of the jupyter-mlops front end.
 */

/** The npm package name, prefix of every plugin id. */
export const PACKAGE_NAME = 'jupyter-mlops';

/** The side panel plugin (its settings live in schema/plugin.json). */
export const PLUGIN_ID = `${PACKAGE_NAME}:plugin`;

/** The id of the side panel widget in the left area. */
export const PANEL_ID = 'jp-mlops-panel';

/** Every command the extension registers. */
export const CommandIDs = {
  /** Show the side panel. */
  openPanel: 'jupyter-mlops:open-panel',
  /** Reload runs and versions now. */
  refresh: 'jupyter-mlops:refresh',
  /** Show the runs view. */
  showRuns: 'jupyter-mlops:show-runs',
  /** Show the notebook versions view. */
  showVersions: 'jupyter-mlops:show-versions',
  /** Compare runs in the main area (args: `ids`, baseline first; asks when none are given). */
  compareRuns: 'jupyter-mlops:compare-runs',
  /** Show the models view. */
  showModels: 'jupyter-mlops:show-models',
  /** Show the deployments view. */
  showDeployments: 'jupyter-mlops:show-deployments',
  /** Show the schedules view. */
  showSchedules: 'jupyter-mlops:show-schedules',
  /** Edit a model's (or a version's) description and tags. */
  editModel: 'jupyter-mlops:edit-model',
  /** Point an alias of a model at a version (asks for confirmation). */
  setAlias: 'jupyter-mlops:set-alias',
  /** Remove an alias of a model (asks for confirmation). */
  deleteAlias: 'jupyter-mlops:delete-alias',
  /** Promote a version through the gate (asks for the conditions, then confirmation). */
  promoteModel: 'jupyter-mlops:promote-model',
  /** Deploy a model version or alias (asks for confirmation). */
  deployModel: 'jupyter-mlops:deploy-model',
  /** Stop a deployment (asks for confirmation). */
  stopDeployment: 'jupyter-mlops:stop-deployment',
  /** Roll a deployment back to its previous version (asks for confirmation). */
  rollbackDeployment: 'jupyter-mlops:rollback-deployment',
  /** Copy a deployment's URL to the clipboard. */
  copyDeploymentUrl: 'jupyter-mlops:copy-deployment-url',
  /** Schedule the active notebook (a form from its parameters cell). */
  scheduleNotebook: 'jupyter-mlops:schedule-notebook',
  /** Pause a schedule. */
  pauseSchedule: 'jupyter-mlops:pause-schedule',
  /** Resume a paused schedule. */
  resumeSchedule: 'jupyter-mlops:resume-schedule',
  /** Run a schedule's notebook now (asks for confirmation). */
  runScheduleNow: 'jupyter-mlops:run-schedule-now',
  /** Delete a schedule (asks for confirmation). */
  deleteSchedule: 'jupyter-mlops:delete-schedule',
  /** Edit a run's tags (args: `id`; else the open run, else one chosen). */
  editRunTags: 'jupyter-mlops:edit-run-tags',
  /** Add a note to a run (args: `id`; else the open run, else one chosen). */
  addRunNote: 'jupyter-mlops:add-run-note',
  /** Delete a run and its child runs (asks for confirmation). */
  deleteRun: 'jupyter-mlops:delete-run'
} as const;

/** The id of any command of {@link CommandIDs}. */
export type CommandID = (typeof CommandIDs)[keyof typeof CommandIDs];

/** User settings of the panel (see schema/plugin.json). */
export interface IPanelSettings {
  /** Base polling interval in seconds. */
  refreshInterval: number;
  /** Longest polling interval in seconds when nothing changes. */
  maxRefreshInterval: number;
  /** Runs per page. */
  pageSize: number;
}

/** Defaults, identical to schema/plugin.json. */
export const DEFAULT_SETTINGS: IPanelSettings = {
  refreshInterval: 3,
  maxRefreshInterval: 60,
  pageSize: 50
};
