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
  showVersions: 'jupyter-mlops:show-versions'
} as const;

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
