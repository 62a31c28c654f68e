/**
 * jupyter-mlops front end: registers the side panel plugin (runs and notebook versions).
 */
import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette, MainAreaWidget } from '@jupyterlab/apputils';
import {
  INotebookTracker,
  NotebookActions,
  NotebookPanel
} from '@jupyterlab/notebook';
import { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import { ISettingRegistry } from '@jupyterlab/settingregistry';

import { comparePlugin } from './compare/plugin';
import { registerDeploymentCommands } from './deployments/commands';
import { mlopsIcon } from './icons';
import { registerModelCommands } from './models/commands';
import { MlopsPanel } from './panel/side-panel';
import { registerRunCommands } from './runs/commands';
import {
  openOutputNotebook,
  registerScheduleCommands
} from './schedules/commands';
import { NotebookDiffWidget } from './versions/diff-widget';
import {
  CommandID,
  CommandIDs,
  DEFAULT_SETTINGS,
  IPanelSettings,
  PANEL_ID,
  PLUGIN_ID
} from './tokens';

function readSettings(
  settings: ISettingRegistry.ISettings | null
): IPanelSettings {
  if (!settings) {
    return DEFAULT_SETTINGS;
  }
  return {
    ...DEFAULT_SETTINGS,
    ...(settings.composite as unknown as IPanelSettings)
  };
}

const plugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_ID,
  description: 'The MLOps side panel: runs and notebook version history.',
  autoStart: true,
  optional: [
    INotebookTracker,
    ISettingRegistry,
    ICommandPalette,
    ILayoutRestorer,
    IRenderMimeRegistry
  ],
  activate: async (
    app: JupyterFrontEnd,
    tracker: INotebookTracker | null,
    registry: ISettingRegistry | null,
    palette: ICommandPalette | null,
    restorer: ILayoutRestorer | null,
    rendermime: IRenderMimeRegistry | null
  ) => {
    let settings: ISettingRegistry.ISettings | null = null;
    if (registry) {
      try {
        settings = await registry.load(PLUGIN_ID);
      } catch (error) {
        console.error('jupyter-mlops: could not load settings', error);
      }
    }
    let diffCount = 0;
    const panel = new MlopsPanel({
      openFile: path => void app.commands.execute('docmanager:open', { path }),
      openDiff: (diff, sides, path) => {
        // Outputs render untrusted through the app's registry (text without one).
        const content = new NotebookDiffWidget(diff, sides, path, rendermime);
        const widget = new MainAreaWidget({ content });
        widget.id = `jp-mlops-diff-${++diffCount}`;
        widget.title.label = content.title.label;
        widget.title.icon = mlopsIcon;
        app.shell.add(widget, 'main', { mode: 'split-right' });
        app.shell.activateById(widget.id);
      },
      settings: readSettings(settings),
      execute: (id: CommandID, args) => void app.commands.execute(id, args),
      openOutput: (runId, artifact) =>
        void openOutputNotebook(
          app.serviceManager.contents,
          path => void app.commands.execute('docmanager:open', { path }),
          runId,
          artifact
        )
    });
    panel.id = PANEL_ID;
    // Ticked runs open the Compare view (the compare plugin's command, a main-area tab).
    panel.runs.onCompare = ids =>
      void app.commands.execute(CommandIDs.compareRuns, { ids });
    panel.title.icon = mlopsIcon;
    panel.title.caption =
      'MLOps: runs, notebook versions, models, deployments and schedules';
    app.shell.add(panel, 'left', { rank: 650 });
    restorer?.add(panel, PANEL_ID);
    settings?.changed.connect(() => panel.configure(readSettings(settings)));

    // Follow the active notebook, its renames and its saves.
    const follow = (widget: NotebookPanel | null) => {
      void panel.setNotebook(widget ? widget.context.path : null);
    };
    if (tracker) {
      tracker.currentChanged.connect((_, widget) => follow(widget));
      tracker.widgetAdded.connect((_, widget) => {
        widget.context.pathChanged.connect(() => {
          if (tracker.currentWidget === widget) {
            follow(widget);
          }
        });
        widget.context.saveState.connect((_, state) => {
          if (state === 'completed' && panel.isVisible) {
            void panel.refresh();
          }
        });
      });
      // A tracked cell's run ends when the cell does: refresh right away (if anyone looks).
      NotebookActions.executed.connect(() => {
        if (panel.isVisible) {
          void panel.refresh();
        }
      });
      follow(tracker.currentWidget);
    } else {
      follow(null);
    }

    app.commands.addCommand(CommandIDs.openPanel, {
      label: 'Show the MLOps panel',
      caption: 'Runs and notebook versions of the active notebook',
      icon: mlopsIcon,
      execute: () => app.shell.activateById(PANEL_ID)
    });
    app.commands.addCommand(CommandIDs.refresh, {
      label: 'Refresh the MLOps panel',
      execute: () => panel.refresh()
    });
    app.commands.addCommand(CommandIDs.showRuns, {
      label: 'Show runs in the MLOps panel',
      execute: () => {
        app.shell.activateById(PANEL_ID);
        panel.showTab('runs');
      }
    });
    app.commands.addCommand(CommandIDs.showVersions, {
      label: 'Show notebook versions in the MLOps panel',
      execute: () => {
        app.shell.activateById(PANEL_ID);
        panel.showTab('versions');
      }
    });
    const views = [
      [CommandIDs.showModels, 'models', 'Show models in the MLOps panel'],
      [
        CommandIDs.showDeployments,
        'deployments',
        'Show deployments in the MLOps panel'
      ],
      [
        CommandIDs.showSchedules,
        'schedules',
        'Show schedules in the MLOps panel'
      ]
    ] as const;
    for (const [id, tab, label] of views) {
      app.commands.addCommand(id, {
        label,
        execute: () => {
          app.shell.activateById(PANEL_ID);
          panel.showTab(tab);
        }
      });
    }
    registerModelCommands(app.commands, panel);
    registerDeploymentCommands(app.commands, panel);
    registerScheduleCommands(app.commands, panel);
    registerRunCommands(app.commands, panel);
    if (palette) {
      for (const command of Object.values(CommandIDs)) {
        palette.addItem({ command, category: 'MLOps' });
      }
    }
  }
};

export default [plugin, comparePlugin];
