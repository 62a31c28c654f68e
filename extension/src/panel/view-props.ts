/**
 * What the panel's views share: the tab names, and a way to run a palette command (every action of a view is a
 * command, so it confirms and reports in one place).
 */
import type { ReadonlyPartialJSONObject } from '@lumino/coreutils';

import type { CommandID } from '../tokens';

/** Run a palette command with its arguments. */
export type ExecuteCommand = (
  id: CommandID,
  args?: ReadonlyPartialJSONObject
) => void;

/** Which view the panel shows. */
export type PanelTab =
  'runs' | 'versions' | 'models' | 'deployments' | 'schedules';

/** Every view, in the order of the tab bar. */
export const PANEL_TABS: PanelTab[] = [
  'runs',
  'versions',
  'models',
  'deployments',
  'schedules'
];
