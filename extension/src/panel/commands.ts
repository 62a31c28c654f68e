/**
 * Registering the panel's actions as palette commands, one way for every view.
 */
import { Notification } from '@jupyterlab/apputils';
import { CommandRegistry } from '@lumino/commands';
import type { ReadonlyPartialJSONObject } from '@lumino/coreutils';

import type { MlopsPanel } from './side-panel';

/** An action of the panel: what a command runs with the panel and the command's arguments. */
export type PanelAction = (
  panel: MlopsPanel,
  args: ReadonlyPartialJSONObject
) => Promise<void>;

/**
 * Return an `add(id, label, run, caption?)` that registers `run` as a command; a failure is
 * shown as an error notification named after the command instead of an unhandled rejection.
 */
export function panelCommandAdder(
  commands: CommandRegistry,
  panel: MlopsPanel
): (id: string, label: string, run: PanelAction, caption?: string) => void {
  return (id, label, run, caption) => {
    commands.addCommand(id, {
      label,
      caption,
      execute: args =>
        run(panel, args).catch(error =>
          Notification.error(`${label}: ${(error as Error).message}`, {
            autoClose: 8000
          })
        )
    });
  };
}
